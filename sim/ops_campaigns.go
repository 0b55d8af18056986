package sim

type dialRequestIn struct {
	Attributes     map[string]string `json:"attributes"`
	ClientToken    *string           `json:"clientToken"`
	ExpirationTime *inTime           `json:"expirationTime"`
	PhoneNumber    *string           `json:"phoneNumber"`
}

type putDialRequestBatchIn struct {
	DialRequests []dialRequestIn `json:"dialRequests"`
}

type dialSuccess struct {
	ClientToken string `json:"clientToken"`
	ID          string `json:"id"`
}

type dialFailure struct {
	ClientToken string `json:"clientToken"`
	FailureCode string `json:"failureCode"`
	ID          string `json:"id,omitempty"`
}

// Per-item failure codes of PutDialRequestBatch.
const (
	DialInvalidInput     = "InvalidInput"
	DialRequestThrottled = "RequestThrottled"
	DialUnknownError     = "UnknownError"
)

func isClientToken(s string) bool { return allBytes(s, isAlnum, "_-.") }

func isDialNumber(s string) bool { return allBytes(s, isDigit, "-+") }

func (in *putDialRequestBatchIn) validate(v *validator, rc *reqCtx) *apiError {
	v.length("id", rc.labels[0], 0, 256)
	v.required("dialRequests", in.DialRequests != nil)
	if in.DialRequests != nil {
		v.count("dialRequests", len(in.DialRequests), 1, 25)
	}
	for i := range in.DialRequests {
		d := &in.DialRequests[i]
		v.required("dialRequests.member.clientToken", d.ClientToken != nil)
		if d.ClientToken != nil {
			v.length("dialRequests.member.clientToken", *d.ClientToken, 0, 200)
			v.pattern("dialRequests.member.clientToken", *d.ClientToken, isClientToken(*d.ClientToken), `[a-zA-Z0-9_\-.]*`)
		}
		v.required("dialRequests.member.phoneNumber", d.PhoneNumber != nil)
		if d.PhoneNumber != nil {
			v.length("dialRequests.member.phoneNumber", *d.PhoneNumber, 0, 20)
			v.pattern("dialRequests.member.phoneNumber", *d.PhoneNumber, isDialNumber(*d.PhoneNumber), `[\d\-+]*`)
		}
		v.required("dialRequests.member.expirationTime", d.ExpirationTime != nil)
		v.required("dialRequests.member.attributes", d.Attributes != nil)
	}
	return nil
}

// putDialRequestBatch serves Outbound Campaigns PutDialRequestBatch: 1–25
// dial requests; each is accepted, rejected as InvalidInput (expired), or
// RequestThrottled when the campaign's dial capacity (DialRate/DialBurst)
// is used up — inside a 200 response.
func (s *Server) putDialRequestBatch(rc *reqCtx, in *putDialRequestBatchIn, _ *instance) (any, *apiError) {
	st := s.st
	c := st.campaigns[rc.labels[0]]
	if c == nil {
		return nil, errf(codeResourceNotFound, "Campaign not found: "+clip(rc.labels[0]))
	}
	if c.state != "Running" {
		e := errf(codeInvalidCampaignState, "Campaign is in "+c.state+" state.")
		e.extra = [][2]string{{"state", c.state}} // the shape's required member
		return nil, e
	}
	out := struct {
		FailedRequests     []dialFailure `json:"failedRequests"`
		SuccessfulRequests []dialSuccess `json:"successfulRequests"`
	}{[]dialFailure{}, []dialSuccess{}}
	for i := range in.DialRequests {
		d := &in.DialRequests[i]
		key := "dial\x00" + c.id + "\x00" + *d.ClientToken
		if id, ok := st.tokens.get(key, rc.now); ok {
			s.stats.duplicates.Add(1)
			out.SuccessfulRequests = append(out.SuccessfulRequests, dialSuccess{ClientToken: *d.ClientToken, ID: id})
			continue
		}
		if !d.ExpirationTime.After(rc.now) {
			out.FailedRequests = append(out.FailedRequests, dialFailure{ClientToken: *d.ClientToken, FailureCode: DialInvalidInput})
			s.stats.dial(DialInvalidInput)
			continue
		}
		if !c.dial.AllowN(rc.now, 1) {
			out.FailedRequests = append(out.FailedRequests, dialFailure{ClientToken: *d.ClientToken, FailureCode: DialRequestThrottled})
			s.stats.dial(DialRequestThrottled)
			continue
		}
		id := st.newID()
		st.tokens.put(key, id, rc.now, st.maxToken)
		out.SuccessfulRequests = append(out.SuccessfulRequests, dialSuccess{ClientToken: *d.ClientToken, ID: id})
		s.stats.dial("Accepted")
	}
	return out, nil
}
