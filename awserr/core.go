package awserr

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
)

// defaultQuotas is the published quota table, built once and only read.
var defaultQuotas = sync.OnceValue(quotas.Default)

// parts is what every entry point extracts before classifying.
type parts struct {
	op, code, message, requestID string
	status                       int
	header                       http.Header
	now                          time.Time
}

// ClassifyCode classifies a failure known only by its operation, error code
// and HTTP status, as found in CloudTrail records and logs. Either code or
// status may be missing (empty, 0). The code is sanitized first
// (SanitizeCode), so "ns#Code:uri" forms are accepted.
func ClassifyCode(op, code string, status int) Info {
	return classify(parts{op: op, code: code, status: status})
}

// classify maps the extracted parts to an Info with quota data and advice.
func classify(p parts) Info {
	code := SanitizeCode(p.code)
	if strings.EqualFold(code, "UnknownError") {
		code = "" // the SDK's placeholder when the response names no code
	}
	lc := strings.ToLower(code)
	if c, ok := canonical[lc]; ok {
		code = c
	}
	info := Info{
		Op:        p.op,
		Code:      code,
		Status:    p.status,
		Message:   truncate(p.message),
		RequestID: truncate(p.requestID),
	}
	if p.header != nil {
		now := p.now
		if now.IsZero() {
			now = time.Now()
		}
		info.RetryAfter = RetryAfterAt(p.header, now)
	}

	var resource string
	if r, ok := opRules[opCode{p.op, lc}]; ok {
		info.Class, resource = r.class, r.resource
	} else if c, ok := codeClass[lc]; ok {
		info.Class = c
	} else {
		info.Class = classByStatus(p.status)
		if info.Class == ClassUnknown && lc != "" {
			info.Class = classByName(lc)
		}
	}
	if resource == quotas.ConcurrentActiveTasks && strings.Contains(strings.ToLower(p.message), "previouscontactid") {
		// The other reason for this error on StartTaskContact: already 12
		// tasks reference the same PreviousContactId. Only a new chain helps.
		info.Class, resource = ClassHardQuota, quotas.TasksPerPreviousContactID
	}

	switch info.Class {
	case ClassConcurrencyQuota, ClassHardQuota:
		if r, ok := defaultQuotas().Resource(resource); ok && resource != "" {
			info.QuotaName, info.QuotaCode = r.Title, r.Code
		}
	case ClassRateThrottle:
		if p.op != "" {
			a, _ := defaultQuotas().API(p.op)
			info.QuotaName = RateQuotaName(p.op)
			info.QuotaCode = a.Code
		}
	}
	return withAdvice(info)
}

// RateQuotaName returns the Service Quotas name of op's API rate quota,
// e.g. "Rate of StartChatContact API requests".
func RateQuotaName(op string) string { return "Rate of " + op + " API requests" }

// classByStatus classifies by HTTP status alone.
func classByStatus(status int) Class {
	switch {
	case status == http.StatusTooManyRequests:
		return ClassRateThrottle // the SDK's "unmodeled 429" rule
	case status == http.StatusPaymentRequired:
		return ClassHardQuota // Connect's ServiceQuotaExceededException status
	case status == http.StatusRequestTimeout:
		return ClassTransient
	case status == http.StatusNotImplemented || status == http.StatusHTTPVersionNotSupported:
		return ClassClientFault
	case status >= 500 && status <= 599:
		return ClassTransient
	case status >= 400 && status <= 499:
		return ClassClientFault
	}
	return ClassUnknown
}

// classByName guesses from an unknown code's name when there is no status.
func classByName(lc string) Class {
	switch {
	case strings.Contains(lc, "throttl"), strings.Contains(lc, "toomanyrequests"), strings.Contains(lc, "ratelimit"):
		return ClassRateThrottle
	case strings.Contains(lc, "quotaexceeded"), strings.Contains(lc, "limitexceeded"):
		return ClassHardQuota
	case strings.Contains(lc, "timeout"), strings.Contains(lc, "internal"), strings.Contains(lc, "unavailable"):
		return ClassTransient
	case strings.Contains(lc, "notfound"), strings.Contains(lc, "invalid"), strings.Contains(lc, "denied"),
		strings.Contains(lc, "validation"), strings.Contains(lc, "conflict"), strings.Contains(lc, "duplicate"):
		return ClassClientFault
	}
	return ClassUnknown
}
