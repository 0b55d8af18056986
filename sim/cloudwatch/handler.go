package cloudwatch

import (
	"io"
	"net/http"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// Service path segments the client may send (the spec accepts both).
const (
	ServiceName     = "GraniteServiceVersion20100801"
	ServiceFullName = "com.amazonaws.cloudwatch.GraniteServiceVersion20100801"
)

// MaxBody caps a request body (PutMetricAlarm's payload limit is 120 KB).
const MaxBody = 1 << 20

// Match reports whether r is a CloudWatch rpc-v2-cbor request.
func Match(r *http.Request) bool {
	svc, _, ok := splitPath(r.URL.Path)
	return ok && (svc == ServiceName || svc == ServiceFullName)
}

// splitPath routes on the last four path segments:
// service/<svc>/operation/<op>.
func splitPath(p string) (svc, op string, ok bool) {
	seg := strings.Split(strings.Trim(p, "/"), "/")
	if len(seg) < 4 {
		return "", "", false
	}
	seg = seg[len(seg)-4:]
	if seg[0] != "service" || seg[2] != "operation" {
		return "", "", false
	}
	return seg[1], seg[3], true
}

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	// Timestamps as tag 1 around a float (what the client expects); no
	// half-precision floats (the spec says SHOULD NOT).
	encMode, err = cbor.EncOptions{Time: cbor.TimeUnixMicro, TimeTag: cbor.EncTagRequired}.EncMode()
	if err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{MaxNestedLevels: 16, MaxArrayElements: 10000, MaxMapPairs: 1000}.DecMode()
	if err != nil {
		panic(err)
	}
}

// apiError is a CloudWatch error: the model's shape name, the awsQuery code
// and the HTTP status.
type apiError struct {
	shape, query string
	status       int
	msg          string
}

func (e *apiError) Error() string { return e.query + ": " + e.msg }

func invalid(msg string) *apiError {
	return &apiError{"InvalidParameterValueException", "InvalidParameterValue", 400, msg}
}

func missing(what string) *apiError {
	return &apiError{"MissingRequiredParameterException", "MissingParameter", 400, what + " must be set"}
}

// ServeHTTP serves one rpc-v2-cbor request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	svc, op, ok := splitPath(r.URL.Path)
	if !ok || (svc != ServiceName && svc != ServiceFullName) || r.Method != http.MethodPost {
		writeErr(w, &apiError{"UnknownOperationException", "UnknownOperation", 404, "unknown operation"})
		return
	}
	if r.Header.Get("X-Amz-Target") != "" || !strings.EqualFold(r.Header.Get("Smithy-Protocol"), "rpc-v2-cbor") {
		writeErr(w, &apiError{"InvalidParameterCombinationException", "InvalidParameterCombination", 400,
			"rpc-v2-cbor requests carry Smithy-Protocol: rpc-v2-cbor and no X-Amz-Target"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil || len(body) > MaxBody {
		writeErr(w, invalid("request body unreadable or larger than 1 MiB"))
		return
	}
	out, e := s.Call(op, body)
	if e != nil {
		writeErr(w, e)
		return
	}
	h := w.Header()
	h.Set("Smithy-Protocol", "rpc-v2-cbor")
	if out == nil { // Unit output: no body
		w.WriteHeader(http.StatusOK)
		return
	}
	b, err := encMode.Marshal(out)
	if err != nil {
		writeErr(w, &apiError{"InternalServiceFault", "InternalServiceError", 500, "unable to encode the response"})
		return
	}
	h.Set("Content-Type", "application/cbor")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// Call runs operation op on a CBOR request body. A nil response means a
// Unit output.
func (s *Service) Call(op string, body []byte) (any, *apiError) {
	now := s.o.Now()
	switch op {
	case "GetMetricData":
		var in getMetricDataInput
		if e := decode(body, &in); e != nil {
			return nil, e
		}
		return s.getMetricData(&in)
	case "PutMetricAlarm":
		var in putMetricAlarmInput
		if e := decode(body, &in); e != nil {
			return nil, e
		}
		return nil, s.putMetricAlarm(&in, now)
	case "DescribeAlarms":
		var in describeAlarmsInput
		if e := decode(body, &in); e != nil {
			return nil, e
		}
		return s.describeAlarms(&in, now)
	case "DeleteAlarms":
		var in deleteAlarmsInput
		if e := decode(body, &in); e != nil {
			return nil, e
		}
		return nil, s.deleteAlarms(&in)
	}
	return nil, &apiError{"UnknownOperationException", "UnknownOperation", 404, "operation " + clip(op) + " is not served by the simulator"}
}

// decode reads a CBOR request body into v; an empty body is an empty input.
func decode(body []byte, v any) *apiError {
	if len(body) == 0 {
		return nil
	}
	if err := decMode.Unmarshal(body, v); err != nil {
		return &apiError{"InvalidParameterValueException", "InvalidParameterValue", 400, "malformed CBOR request body: " + clip(err.Error())}
	}
	return nil
}

func writeErr(w http.ResponseWriter, e *apiError) {
	msgKey := "message"
	if e.shape == "InternalServiceFault" || e.shape == "LimitExceededException" {
		msgKey = "Message"
	}
	b, _ := encMode.Marshal(map[string]string{"__type": "com.amazonaws.cloudwatch#" + e.shape, msgKey: e.msg})
	h := w.Header()
	h.Set("Smithy-Protocol", "rpc-v2-cbor")
	h.Set("Content-Type", "application/cbor")
	fault := "Sender"
	if e.status >= 500 {
		fault = "Receiver"
	}
	h.Set("X-Amzn-Query-Error", e.query+";"+fault)
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
