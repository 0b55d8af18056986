package sim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Error codes the simulator sends (Connect model names, reference §2).
const (
	codeAccessDenied          = "AccessDeniedException"
	codeContactNotFound       = "ContactNotFoundException"
	codeDestinationNotAllowed = "DestinationNotAllowedException"
	codeDuplicateResource     = "DuplicateResourceException"
	codeIdempotency           = "IdempotencyException"
	codeInternalService       = "InternalServiceException"
	codeInvalidParameter      = "InvalidParameterException"
	codeInvalidRequest        = "InvalidRequestException"
	codeLimitExceeded         = "LimitExceededException"
	codeResourceNotFound      = "ResourceNotFoundException"
	codeServiceQuotaExceeded  = "ServiceQuotaExceededException"
	codeThrottling            = "ThrottlingException"
	codeTooManyRequests       = "TooManyRequestsException"

	// Outbound Campaigns.
	codeValidation           = "ValidationException"
	codeInternalServer       = "InternalServerException"
	codeInvalidCampaignState = "InvalidCampaignStateException"

	// Protocol and authentication (the AWS front door, not modeled by Connect).
	codeUnknownOperation     = "UnknownOperationException"
	codeSerialization        = "SerializationException"
	codeRequestTooLarge      = "RequestEntityTooLargeException"
	codeInvalidSignature     = "InvalidSignatureException"
	codeUnrecognizedClient   = "UnrecognizedClientException"
	codeMissingAuthToken     = "MissingAuthenticationTokenException"
	codeExpiredToken         = "ExpiredTokenException"
	codeIncompleteSignature  = "IncompleteSignatureException"
	codeServiceUnavailable   = "ServiceUnavailable" // 503 HTML (stats only)
	codeConnectionReset      = "ConnectionReset"    // hijack + RST (stats only)
	codeUnauthorizedAdmin    = "Unauthorized"
	codeReorder              = "RejectedReorder" // stats only
	codeClientClosedRequest  = "ClientClosedRequest"
	codeRequestTimeout       = "RequestTimeoutException"
	codeMethodNotAllowed     = "MethodNotAllowed"
	codeAdminInvalidArgument = "InvalidArgument"
)

// statusOf is the HTTP status of each error code.
var statusOf = map[string]int{
	codeAccessDenied:          403,
	codeContactNotFound:       410,
	codeDestinationNotAllowed: 403,
	codeDuplicateResource:     409,
	codeIdempotency:           409,
	codeInternalService:       500,
	codeInvalidParameter:      400,
	codeInvalidRequest:        400,
	codeLimitExceeded:         429,
	codeResourceNotFound:      404,
	codeServiceQuotaExceeded:  402,
	codeThrottling:            429,
	codeTooManyRequests:       429,
	codeValidation:            400,
	codeInternalServer:        500,
	codeInvalidCampaignState:  409,
	codeUnknownOperation:      404,
	codeSerialization:         400,
	codeRequestTooLarge:       413,
	codeRequestTimeout:        408,
	codeInvalidSignature:      403,
	codeUnrecognizedClient:    403,
	codeMissingAuthToken:      403,
	codeExpiredToken:          403,
	codeIncompleteSignature:   400,
	codeUnauthorizedAdmin:     401,
	codeMethodNotAllowed:      405,
	codeAdminInvalidArgument:  400,
}

// apiError is an error response: code, message and HTTP status.
type apiError struct {
	code    string
	msg     string
	retryIn time.Duration // rate throttles only
	extra   [][2]string   // additional string members of the error shape
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func (e *apiError) status() int {
	if s, ok := statusOf[e.code]; ok {
		return s
	}
	return 500
}

func errf(code, msg string) *apiError { return &apiError{code: code, msg: msg} }

// writeError writes the restJson1 error wire format (reference §3.3):
// X-Amzn-ErrorType, X-Amzn-RequestId, Date and a JSON body with the message.
// lowerMessage selects {"message":…} (Outbound Campaigns) over {"Message":…}.
func writeError(w http.ResponseWriter, e *apiError, reqID, date string, lowerMessage, retryAfter bool) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", e.code)
	h.Set("X-Amzn-RequestId", reqID)
	h.Set("Date", date)
	if retryAfter && e.retryIn > 0 {
		ms := (e.retryIn + time.Millisecond - 1) / time.Millisecond
		h.Set("x-amz-retry-after", strconv.FormatInt(int64(ms), 10))
	}
	w.WriteHeader(e.status())
	buf := make([]byte, 0, 32+len(e.msg))
	if lowerMessage {
		buf = append(buf, `{"message":`...)
	} else {
		buf = append(buf, `{"Message":`...)
	}
	msg, _ := json.Marshal(e.msg) // valid JSON even for invalid UTF-8 input
	buf = append(buf, msg...)
	for _, kv := range e.extra {
		k, _ := json.Marshal(kv[0])
		v, _ := json.Marshal(kv[1])
		buf = append(buf, ',')
		buf = append(buf, k...)
		buf = append(buf, ':')
		buf = append(buf, v...)
	}
	buf = append(buf, '}')
	_, _ = w.Write(buf)
}

// requestIDs makes AWS-looking request ids (UUID text) cheaply: a random
// 64-bit prefix fixed at start and an atomic counter.
type requestIDs struct {
	hi  uint64
	ctr atomic.Uint64
}

const hexdigits = "0123456789abcdef"

func (g *requestIDs) next() string {
	lo := g.ctr.Add(1)
	var b [36]byte
	hi := g.hi
	j := 0
	for i := 0; i < 16; i++ {
		if i == 8 || i == 12 {
			b[j] = '-'
			j++
		}
		b[j] = hexdigits[(hi>>(60-4*uint(i)))&0xf]
		j++
	}
	// b[14] is the version nibble of "xxxxxxxx-xxxx-Mxxx"
	b[14] = '4'
	b[j] = '-'
	j++
	for i := 0; i < 16; i++ {
		if i == 4 {
			b[j] = '-'
			j++
		}
		b[j] = hexdigits[(lo>>(60-4*uint(i)))&0xf]
		j++
	}
	b[19] = '8'
	return string(b[:])
}

// dateCache formats the Date header once per second.
type dateCache struct {
	v atomic.Pointer[dateEntry]
}

type dateEntry struct {
	sec int64
	s   string
}

func (c *dateCache) get(now time.Time) string {
	sec := now.Unix()
	if e := c.v.Load(); e != nil && e.sec == sec {
		return e.s
	}
	e := &dateEntry{sec: sec, s: now.UTC().Format(http.TimeFormat)}
	c.v.Store(e)
	return e.s
}

// validationError formats Coral-style constraint violations:
// "2 validation errors detected: Value null at 'x' failed to satisfy ...; ...".
type validator struct {
	errs []string
}

func (v *validator) add(s string) { v.errs = append(v.errs, s) }

func (v *validator) required(name string, present bool) {
	if !present {
		v.add("Value null at '" + name + "' failed to satisfy constraint: Member must not be null")
	}
}

func (v *validator) length(name, s string, lo, hi int) {
	n := len([]rune(s))
	if n < lo {
		v.add("Value '" + clip(s) + "' at '" + name + "' failed to satisfy constraint: Member must have length greater than or equal to " + strconv.Itoa(lo))
	} else if hi > 0 && n > hi {
		v.add("Value '" + clip(s) + "' at '" + name + "' failed to satisfy constraint: Member must have length less than or equal to " + strconv.Itoa(hi))
	}
}

func (v *validator) optLength(name string, s *string, lo, hi int) {
	if s != nil {
		v.length(name, *s, lo, hi)
	}
}

func (v *validator) intRange(name string, p *int64, lo, hi int64) {
	if p == nil {
		return
	}
	if *p < lo {
		v.add("Value '" + strconv.FormatInt(*p, 10) + "' at '" + name + "' failed to satisfy constraint: Member must have value greater than or equal to " + strconv.FormatInt(lo, 10))
	} else if *p > hi {
		v.add("Value '" + strconv.FormatInt(*p, 10) + "' at '" + name + "' failed to satisfy constraint: Member must have value less than or equal to " + strconv.FormatInt(hi, 10))
	}
}

func (v *validator) count(name string, n, lo, hi int) {
	if n < lo {
		v.add("Value at '" + name + "' failed to satisfy constraint: Member must have length greater than or equal to " + strconv.Itoa(lo))
	} else if hi > 0 && n > hi {
		v.add("Value at '" + name + "' failed to satisfy constraint: Member must have length less than or equal to " + strconv.Itoa(hi))
	}
}

func (v *validator) enum(name, s string, allowed []string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.add("Value '" + clip(s) + "' at '" + name + "' failed to satisfy constraint: Member must satisfy enum value set: [" + strings.Join(allowed, ", ") + "]")
}

// optEnum is enum for an optional member: nil passes.
func (v *validator) optEnum(name string, s *string, allowed []string) {
	if s != nil {
		v.enum(name, *s, allowed)
	}
}

func (v *validator) pattern(name, s string, ok bool, pat string) {
	if !ok {
		v.add("Value '" + clip(s) + "' at '" + name + "' failed to satisfy constraint: Member must satisfy regular expression pattern: " + pat)
	}
}

func (v *validator) err(code string) *apiError {
	switch len(v.errs) {
	case 0:
		return nil
	case 1:
		return errf(code, "1 validation error detected: "+v.errs[0])
	}
	return errf(code, strconv.Itoa(len(v.errs))+" validation errors detected: "+strings.Join(v.errs, "; "))
}

func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return s
}
