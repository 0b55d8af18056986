package servicequotas

import (
	"strconv"
	"time"
)

// serviceQuota is the ServiceQuota shape.
type serviceQuota struct {
	ServiceCode         string        `json:"ServiceCode"`
	ServiceName         string        `json:"ServiceName"`
	QuotaArn            string        `json:"QuotaArn"`
	QuotaCode           string        `json:"QuotaCode"`
	QuotaName           string        `json:"QuotaName"`
	Value               float64       `json:"Value"`
	Unit                string        `json:"Unit"`
	Adjustable          bool          `json:"Adjustable"`
	GlobalQuota         bool          `json:"GlobalQuota"`
	UsageMetric         *metricInfo   `json:"UsageMetric,omitempty"`
	Period              *period       `json:"Period,omitempty"`
	QuotaAppliedAtLevel string        `json:"QuotaAppliedAtLevel"`
	QuotaContext        *quotaContext `json:"QuotaContext,omitempty"`
}

type metricInfo struct {
	MetricNamespace               string            `json:"MetricNamespace"`
	MetricName                    string            `json:"MetricName"`
	MetricDimensions              map[string]string `json:"MetricDimensions"`
	MetricStatisticRecommendation string            `json:"MetricStatisticRecommendation"`
}

type period struct {
	PeriodValue int    `json:"PeriodValue"`
	PeriodUnit  string `json:"PeriodUnit"`
}

type quotaContext struct {
	ContextScope     string `json:"ContextScope"`
	ContextScopeType string `json:"ContextScopeType"`
	ContextId        string `json:"ContextId"`
}

// requestedChange is the RequestedServiceQuotaChange shape.
type requestedChange struct {
	Id                    string        `json:"Id"`
	CaseId                string        `json:"CaseId,omitempty"`
	ServiceCode           string        `json:"ServiceCode"`
	ServiceName           string        `json:"ServiceName"`
	QuotaCode             string        `json:"QuotaCode"`
	QuotaName             string        `json:"QuotaName"`
	DesiredValue          float64       `json:"DesiredValue"`
	Status                string        `json:"Status"`
	Created               float64       `json:"Created"`
	LastUpdated           float64       `json:"LastUpdated"`
	Requester             string        `json:"Requester"`
	QuotaArn              string        `json:"QuotaArn"`
	GlobalQuota           bool          `json:"GlobalQuota"`
	Unit                  string        `json:"Unit"`
	QuotaRequestedAtLevel string        `json:"QuotaRequestedAtLevel"`
	QuotaContext          *quotaContext `json:"QuotaContext,omitempty"`
}

// shape renders q; value is the applied or the default value. Requires mu
// held.
func (s *Service) shape(q *quota, value float64, contextID string) serviceQuota {
	out := serviceQuota{ServiceCode: ServiceCode, ServiceName: "Amazon Connect", QuotaArn: s.arn(q.code),
		QuotaCode: q.code, QuotaName: q.name, Value: value, Unit: "None", Adjustable: q.adjustable,
		QuotaAppliedAtLevel: "ACCOUNT"}
	if q.op != "" {
		out.UsageMetric = &metricInfo{MetricNamespace: "AWS/Usage", MetricName: "CallCount",
			MetricDimensions:              map[string]string{"Service": "Connect", "Type": "API", "Resource": q.op, "Class": "None"},
			MetricStatisticRecommendation: "Sum"}
		out.Period = &period{PeriodValue: 1, PeriodUnit: "SECOND"}
	}
	if q.resource {
		out.QuotaAppliedAtLevel = "RESOURCE"
		if contextID == "" {
			contextID = "*"
		}
		out.QuotaContext = &quotaContext{ContextScope: "RESOURCE", ContextScopeType: "AWS::Connect::Instance", ContextId: contextID}
	}
	return out
}

// lookup validates ServiceCode and QuotaCode. Requires mu held.
func (s *Service) lookup(in *input) (*quota, *apiError) {
	if e := checkService(in.ServiceCode, true); e != nil {
		return nil, e
	}
	if in.QuotaCode == nil || *in.QuotaCode == "" {
		return nil, errf("IllegalArgumentException", "QuotaCode: must be set")
	}
	if !reQuotaCode.MatchString(*in.QuotaCode) {
		return nil, errf("IllegalArgumentException", "QuotaCode: must match [a-zA-Z][a-zA-Z0-9-]{1,128}")
	}
	q := s.byCode[*in.QuotaCode]
	if q == nil {
		return nil, errf("NoSuchResourceException", "The request failed because the specified quota "+*in.QuotaCode+" does not exist for service "+ServiceCode+".")
	}
	return q, nil
}

func checkService(sc *string, required bool) *apiError {
	if sc == nil || *sc == "" {
		if required {
			return errf("IllegalArgumentException", "ServiceCode: must be set")
		}
		return nil
	}
	if !reServiceCode.MatchString(*sc) {
		return errf("IllegalArgumentException", "ServiceCode: must match [a-zA-Z][a-zA-Z0-9-]{1,63}")
	}
	if *sc != ServiceCode {
		return errf("NoSuchResourceException", "The request failed because the specified service "+*sc+" does not exist.")
	}
	return nil
}

func (s *Service) getServiceQuota(in *input, _ time.Time) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, e := s.lookup(in)
	if e != nil {
		return nil, e
	}
	ctx := ""
	if in.ContextId != nil {
		ctx = *in.ContextId
	}
	return map[string]any{"Quota": s.shape(q, q.applied, ctx)}, nil
}

func (s *Service) getDefaultQuota(in *input, _ time.Time) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, e := s.lookup(in)
	if e != nil {
		return nil, e
	}
	return map[string]any{"Quota": s.shape(q, q.def, "")}, nil
}

// page validates the pagination members and returns the window.
func page(in *input, n int) (from, to int, next string, e *apiError) {
	max := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return 0, 0, "", errf("IllegalArgumentException", "MaxResults: must be in 1..100, got "+strconv.Itoa(*in.MaxResults))
		}
		max = *in.MaxResults
	}
	tok := ""
	if in.NextToken != nil {
		tok = *in.NextToken
	}
	from, ok := decodeToken(tok)
	if !ok || from > n {
		return 0, 0, "", errf("InvalidPaginationTokenException", "NextToken: invalid pagination token")
	}
	to = min(n, from+max)
	if to < n {
		next = encodeToken(to)
	}
	return from, to, next, nil
}

func (s *Service) listQuotas(in *input, applied bool) (any, *apiError) {
	if e := checkService(in.ServiceCode, true); e != nil {
		return nil, e
	}
	level := "ACCOUNT"
	if applied && in.QuotaAppliedAtLevel != nil {
		level = *in.QuotaAppliedAtLevel
		if level != "ACCOUNT" && level != "RESOURCE" && level != "ALL" {
			return nil, errf("IllegalArgumentException", "QuotaAppliedAtLevel: must be ACCOUNT, RESOURCE or ALL")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []serviceQuota
	for _, c := range s.codes {
		q := s.byCode[c]
		if applied && in.QuotaCode != nil && *in.QuotaCode != "" && *in.QuotaCode != c {
			continue
		}
		if applied && level != "ALL" && q.resource != (level == "RESOURCE") {
			continue
		}
		v := q.def
		if applied {
			v = q.applied
		}
		all = append(all, s.shape(q, v, ""))
	}
	return pageResult(in, "Quotas", all)
}

func (s *Service) listServiceQuotas(in *input, _ time.Time) (any, *apiError) {
	return s.listQuotas(in, true)
}
func (s *Service) listDefaultQuotas(in *input, _ time.Time) (any, *apiError) {
	return s.listQuotas(in, false)
}

func (s *Service) requestIncrease(in *input, now time.Time) (any, *apiError) {
	if in.DesiredValue == nil {
		return nil, errf("IllegalArgumentException", "DesiredValue: must be set")
	}
	d := *in.DesiredValue
	if !finite(d) || d < 0 || d > 1e10 {
		return nil, errf("IllegalArgumentException", "DesiredValue: must be in 0..10000000000")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, e := s.lookup(in)
	if e != nil {
		return nil, e
	}
	ctx := ""
	if in.ContextId != nil {
		ctx = *in.ContextId
	}
	if !q.adjustable {
		return nil, errf("IllegalArgumentException", "The quota "+q.code+" ("+q.name+") is not adjustable.")
	}
	if d <= q.applied {
		return nil, errf("IllegalArgumentException", "You must provide a quota value greater than the current quota value.")
	}
	open := 0
	for _, r := range s.reqs {
		if r.status != StatusPending && r.status != StatusCaseOpened {
			continue
		}
		open++
		if r.code == q.code && r.contextID == ctx {
			return nil, errf("ResourceAlreadyExistsException", "Only one open service quota increase request is allowed per quota.")
		}
	}
	if open >= 20 {
		return nil, errf("QuotaExceededException", "You have exceeded your service quota of 20 open quota increase requests.")
	}
	r := &request{id: s.newID(), code: q.code, contextID: ctx, desired: d, status: StatusPending,
		created: now, updated: now, approve: d <= q.def*s.o.DenyAbove}
	r.caseAt = now.Add(s.jitter(s.o.CaseAfter))
	r.decideAt = r.caseAt.Add(s.jitter(s.o.DecideAfter - s.o.CaseAfter))
	s.reqs = append(s.reqs, r)
	return map[string]any{"RequestedQuota": s.change(r)}, nil
}

// change renders r. Requires mu held.
func (s *Service) change(r *request) requestedChange {
	q := s.byCode[r.code]
	out := requestedChange{Id: r.id, CaseId: r.caseID, ServiceCode: ServiceCode, ServiceName: "Amazon Connect",
		QuotaCode: r.code, QuotaName: q.name, DesiredValue: r.desired, Status: r.status,
		Created: epoch(r.created), LastUpdated: epoch(r.updated), Requester: "arn:aws:iam::" + s.o.AccountID + ":user/sim",
		QuotaArn: s.arn(r.code), Unit: "None", QuotaRequestedAtLevel: "ACCOUNT"}
	if r.contextID != "" {
		out.QuotaRequestedAtLevel = "RESOURCE"
		out.QuotaContext = &quotaContext{ContextScope: "RESOURCE", ContextScopeType: "AWS::Connect::Instance", ContextId: r.contextID}
	}
	return out
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (s *Service) getRequest(in *input, _ time.Time) (any, *apiError) {
	if in.RequestId == nil || !reRequestID.MatchString(*in.RequestId) {
		return nil, errf("IllegalArgumentException", "RequestId: must match [0-9a-zA-Z][a-zA-Z0-9-]{1,128}")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.reqs {
		if r.id == *in.RequestId {
			return map[string]any{"RequestedQuota": s.change(r)}, nil
		}
	}
	return nil, errf("NoSuchResourceException", "The request "+*in.RequestId+" does not exist.")
}

func (s *Service) history(in *input, code string) (any, *apiError) {
	level := "ACCOUNT"
	if in.QuotaRequestedAtLevel != nil {
		level = *in.QuotaRequestedAtLevel
		if level != "ACCOUNT" && level != "RESOURCE" && level != "ALL" {
			return nil, errf("IllegalArgumentException", "QuotaRequestedAtLevel: must be ACCOUNT, RESOURCE or ALL")
		}
	}
	if in.Status != nil {
		switch *in.Status {
		case "PENDING", "CASE_OPENED", "APPROVED", "DENIED", "CASE_CLOSED", "NOT_APPROVED", "INVALID_REQUEST":
		default:
			return nil, errf("IllegalArgumentException", "Status: unknown status "+clip(*in.Status))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []requestedChange
	for i := len(s.reqs) - 1; i >= 0; i-- { // newest first
		r := s.reqs[i]
		if code != "" && r.code != code {
			continue
		}
		if in.Status != nil && r.status != *in.Status {
			continue
		}
		if level != "ALL" && (r.contextID != "") != (level == "RESOURCE") {
			continue
		}
		all = append(all, s.change(r))
	}
	return pageResult(in, "RequestedQuotas", all)
}

func (s *Service) listHistory(in *input, _ time.Time) (any, *apiError) {
	if e := checkService(in.ServiceCode, false); e != nil {
		return nil, e
	}
	return s.history(in, "")
}

func (s *Service) listHistoryByQuota(in *input, _ time.Time) (any, *apiError) {
	s.mu.Lock()
	q, e := s.lookup(in)
	s.mu.Unlock()
	if e != nil {
		return nil, e
	}
	return s.history(in, q.code)
}

// pageResult answers one page of all under key, with NextToken when more
// follow (page reads MaxResults and NextToken from in).
func pageResult[T any](in *input, key string, all []T) (any, *apiError) {
	from, to, next, e := page(in, len(all))
	if e != nil {
		return nil, e
	}
	out := map[string]any{key: all[from:to]}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}
