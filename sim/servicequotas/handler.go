package servicequotas

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// TargetPrefix starts the X-Amz-Target header of every request.
const TargetPrefix = "ServiceQuotasV20190624."

// MaxBody caps a request body.
const MaxBody = 64 << 10

// apiError is an awsJson1_1 error.
type apiError struct {
	code string
	msg  string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func errf(code, msg string) *apiError { return &apiError{code: code, msg: msg} }

var (
	reServiceCode = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,63}$`)
	reQuotaCode   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,128}$`)
	reRequestID   = regexp.MustCompile(`^[0-9a-zA-Z][a-zA-Z0-9-]{1,128}$`)
)

// input is the union of every operation's request members.
type input struct {
	ServiceCode           *string  `json:"ServiceCode"`
	QuotaCode             *string  `json:"QuotaCode"`
	ContextId             *string  `json:"ContextId"`
	DesiredValue          *float64 `json:"DesiredValue"`
	RequestId             *string  `json:"RequestId"`
	NextToken             *string  `json:"NextToken"`
	MaxResults            *int     `json:"MaxResults"`
	Status                *string  `json:"Status"`
	QuotaAppliedAtLevel   *string  `json:"QuotaAppliedAtLevel"`
	QuotaRequestedAtLevel *string  `json:"QuotaRequestedAtLevel"`
	SupportCaseAllowed    *bool    `json:"SupportCaseAllowed"`
}

// ServeHTTP serves one awsJson1_1 request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, TargetPrefix)
	if r.Method != http.MethodPost || !ok {
		writeErr(w, errf("UnknownOperationException", "unknown operation "+clip(target)))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil || len(body) > MaxBody {
		writeErr(w, errf("SerializationException", "request body unreadable or larger than 64 KiB"))
		return
	}
	out, e := s.Call(op, body)
	if e != nil {
		writeErr(w, e)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeErr(w, errf("ServiceException", "unable to encode the response"))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// Call runs operation op on a JSON request body and returns the response
// value, or an error whose code is the Service Quotas error code.
func (s *Service) Call(op string, body []byte) (any, *apiError) {
	var in input
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			var ute *json.UnmarshalTypeError
			if errors.As(err, &ute) {
				return nil, errf("SerializationException", "field "+ute.Field+": wrong type")
			}
			return nil, errf("SerializationException", "request body is not a JSON object")
		}
	}
	h, ok := handlers[op]
	if !ok {
		return nil, errf("UnknownOperationException", "unknown operation "+clip(op))
	}
	now := s.o.Now()
	s.advance(now)
	s.mu.Lock()
	denied := s.denied["servicequotas:"+op]
	s.mu.Unlock()
	if denied {
		return nil, errf("AccessDeniedException", "User: arn:aws:iam::"+s.o.AccountID+":user/sim is not authorized to perform: servicequotas:"+op)
	}
	return h(s, &in, now)
}

type handlerFunc func(s *Service, in *input, now time.Time) (any, *apiError)

var handlers map[string]handlerFunc

func init() {
	handlers = map[string]handlerFunc{
		"GetServiceQuota":                               (*Service).getServiceQuota,
		"GetAWSDefaultServiceQuota":                     (*Service).getDefaultQuota,
		"ListServiceQuotas":                             (*Service).listServiceQuotas,
		"ListAWSDefaultServiceQuotas":                   (*Service).listDefaultQuotas,
		"RequestServiceQuotaIncrease":                   (*Service).requestIncrease,
		"GetRequestedServiceQuotaChange":                (*Service).getRequest,
		"ListRequestedServiceQuotaChangeHistory":        (*Service).listHistory,
		"ListRequestedServiceQuotaChangeHistoryByQuota": (*Service).listHistoryByQuota,
	}
}

func writeErr(w http.ResponseWriter, e *apiError) {
	status := http.StatusBadRequest
	if e.code == "ServiceException" {
		status = http.StatusInternalServerError
	}
	b, _ := json.Marshal(map[string]string{"__type": e.code, "Message": e.msg})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
