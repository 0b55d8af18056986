package triage

import (
	"strconv"
	"strings"
)

// SDKError is an AWS SDK error found in a log message.
type SDKError struct {
	SDK       string // "go", "python" or "js"
	Service   string // service name when the shape has it (Go: "Connect"), else ""
	Op        string // operation, "" when the shape does not name it
	Code      string // error code, e.g. "ThrottlingException"; "" when only the status is known
	Status    int    // HTTP status, 0 when the shape does not carry it
	Message   string
	RequestID string
}

// maxSDKField bounds each extracted field.
const maxSDKField = 512

// ParseSDKError recognises the error text that the AWS SDKs print and that
// ends up in Lambda logs:
//
//	Go:     operation error Connect: GetCurrentMetricData, https response error StatusCode: 429, RequestID: 1f…, ThrottlingException: Rate exceeded
//	Python: An error occurred (ThrottlingException) when calling the GetCurrentMetricData operation (reached max retries: 4): Rate exceeded
//	JS v3:  ThrottlingException: Rate exceeded … '$metadata': { httpStatusCode: 429, requestId: '1f…' } (and the JSON forms of
//	        the same error, with commandName when the client logger printed it)
//
// It returns ok=false when msg holds none of them.
func ParseSDKError(msg string) (SDKError, bool) {
	if i := strings.Index(msg, "operation error "); i >= 0 {
		if e, ok := parseGoSDK(msg[i+len("operation error "):]); ok {
			return e, true
		}
	}
	if i := strings.Index(msg, "An error occurred ("); i >= 0 {
		if e, ok := parsePythonSDK(msg[i+len("An error occurred ("):]); ok {
			return e, true
		}
	}
	if strings.Contains(msg, "$metadata") || strings.Contains(msg, "$fault") || strings.Contains(msg, "commandName") ||
		(strings.Contains(msg, "statusCode") && strings.Contains(msg, "code")) {
		if e, ok := parseJSSDK(msg); ok {
			return e, true
		}
	}
	return SDKError{}, false
}

// parseGoSDK parses the text after "operation error ".
func parseGoSDK(s string) (SDKError, bool) {
	e := SDKError{SDK: "go"}
	i := strings.Index(s, ": ")
	if i <= 0 || !isIdent(s[:i]) {
		return e, false
	}
	e.Service = s[:i]
	s = s[i+2:]
	j := strings.IndexByte(s, ',')
	if j <= 0 || !isIdent(s[:j]) {
		return e, false
	}
	e.Op = s[:j]
	rest := firstLine(s[j+1:])
	if k := strings.Index(rest, "StatusCode: "); k >= 0 {
		e.Status = leadingInt(rest[k+len("StatusCode: "):])
	}
	tail := rest
	if k := strings.Index(rest, "RequestID: "); k >= 0 {
		v := rest[k+len("RequestID: "):]
		end := strings.IndexByte(v, ',')
		if end < 0 {
			end = len(v)
		}
		e.RequestID = clipField(strings.TrimSpace(v[:end]))
		tail = v[end:]
		tail = strings.TrimPrefix(tail, ",")
	}
	tail = strings.TrimSpace(tail)
	if k := strings.Index(tail, "api error "); k >= 0 {
		tail = tail[k+len("api error "):]
	}
	if k := strings.Index(tail, ":"); k > 0 && isIdent(tail[:k]) && e.Status != 0 {
		e.Code = tail[:k]
		e.Message = clipField(strings.TrimSpace(tail[k+1:]))
	}
	if e.Code == "" && e.Status == 0 {
		return e, false
	}
	return e, true
}

// parsePythonSDK parses the text after "An error occurred (".
func parsePythonSDK(s string) (SDKError, bool) {
	e := SDKError{SDK: "python"}
	i := strings.IndexByte(s, ')')
	if i <= 0 || !isIdent(s[:i]) {
		return e, false
	}
	e.Code = s[:i]
	s = s[i+1:]
	const call = " when calling the "
	if !strings.HasPrefix(s, call) {
		return e, false
	}
	s = s[len(call):]
	j := strings.Index(s, " operation")
	if j <= 0 || !isIdent(s[:j]) {
		return e, false
	}
	e.Op = s[:j]
	s = firstLine(s[j+len(" operation"):])
	if strings.HasPrefix(s, " (reached max retries: ") {
		if k := strings.IndexByte(s, ')'); k >= 0 {
			s = s[k+1:]
		}
	}
	if strings.HasPrefix(s, ":") {
		e.Message = clipField(strings.TrimSpace(s[1:]))
	}
	return e, true
}

// parseJSSDK extracts an AWS SDK for JavaScript error from the
// util.inspect, JSON or logger forms.
func parseJSSDK(msg string) (SDKError, bool) {
	e := SDKError{SDK: "js"}
	for _, k := range []string{"name", "errorType", "code", "__type", "Code"} {
		if v, ok := keyedValue(msg, k); ok && isIdent(v) && looksLikeCode(v) {
			e.Code = v
			break
		}
	}
	if e.Code == "" {
		e.Code, e.Message = leadingCode(msg)
	}
	if e.Code == "" {
		return e, false
	}
	for _, k := range []string{"httpStatusCode", "statusCode"} {
		if v, ok := keyedValue(msg, k); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 100 && n <= 599 {
				e.Status = n
				break
			}
		}
	}
	if v, ok := keyedValue(msg, "requestId"); ok {
		e.RequestID = clipField(v)
	}
	if v, ok := keyedValue(msg, "clientName"); ok {
		if v = strings.TrimSuffix(v, "Client"); isIdent(v) {
			e.Service = v
		}
	}
	if v, ok := keyedValue(msg, "commandName"); ok {
		v = strings.TrimSuffix(v, "Command")
		if isIdent(v) {
			e.Op = v
		}
	}
	if e.Op == "" {
		if i := strings.Index(msg, "de_"); i >= 0 {
			v := msg[i+3:]
			end := 0
			for end < len(v) && isIdentByte(v[end]) {
				end++
			}
			if op, ok := strings.CutSuffix(v[:end], "Command"); ok && op != "" && isIdent(op) {
				e.Op = op
			}
		}
	}
	if e.Message == "" {
		if c, m := leadingCode(msg); c == e.Code {
			e.Message = m
		}
	}
	if e.Message == "" {
		for _, k := range []string{"errorMessage", "message"} {
			if v, ok := keyedValue(msg, k); ok {
				e.Message = clipField(v)
				break
			}
		}
	}
	if e.Status == 0 && !strings.Contains(msg, "$metadata") && !strings.Contains(msg, "$fault") && e.Op == "" {
		return e, false
	}
	return e, true
}

// keyedValue finds `key: 'v'`, `key: "v"`, `"key":"v"`, `'key': 'v'` or a
// bare number value after key, with key not preceded by an identifier byte.
func keyedValue(msg, key string) (string, bool) {
	from := 0
	for from < len(msg) {
		i := strings.Index(msg[from:], key)
		if i < 0 {
			return "", false
		}
		i += from
		from = i + len(key)
		if i > 0 && (isIdentByte(msg[i-1]) || msg[i-1] == '$') {
			continue
		}
		j := i + len(key)
		if j < len(msg) && (msg[j] == '"' || msg[j] == '\'') {
			j++
		}
		for j < len(msg) && msg[j] == ' ' {
			j++
		}
		if j >= len(msg) || msg[j] != ':' {
			continue
		}
		j++
		for j < len(msg) && msg[j] == ' ' {
			j++
		}
		if j >= len(msg) {
			return "", false
		}
		switch q := msg[j]; {
		case q == '"' || q == '\'':
			v := msg[j+1:]
			end := strings.IndexByte(v, q)
			if end < 0 {
				continue
			}
			return clipField(v[:end]), true
		case q >= '0' && q <= '9':
			end := j
			for end < len(msg) && msg[end] >= '0' && msg[end] <= '9' {
				end++
			}
			return msg[j:end], true
		}
	}
	return "", false
}

// leadingCode finds the first "XxxException: message" in msg whose code
// starts a line, follows a space or tab, or follows "error: " (Lambda's
// "…\tERROR\tInvoke Error \t…", util.inspect, the SDK logger).
func leadingCode(msg string) (code, message string) {
	from := 0
	for {
		k := strings.Index(msg[from:], ": ")
		if k < 0 {
			return "", ""
		}
		k += from
		from = k + 2
		start := k
		for start > 0 && isIdentByte(msg[start-1]) {
			start--
		}
		if start > 0 {
			switch msg[start-1] {
			case ' ', '\t', '\n', '(':
			default:
				continue
			}
		}
		if c := msg[start:k]; isIdent(c) && looksLikeCode(c) {
			return c, clipField(strings.TrimSpace(firstLine(msg[k+2:])))
		}
	}
}

// looksLikeCode accepts AWS-style error codes: an upper-case initial and an
// Exception/Error/Throttl…/Limit… word.
func looksLikeCode(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	return strings.HasSuffix(s, "Exception") || strings.HasSuffix(s, "Error") || strings.Contains(s, "Throttl") ||
		strings.Contains(s, "LimitExceeded") || strings.Contains(s, "TooManyRequests") || strings.HasSuffix(s, "Fault")
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// isIdent reports a non-empty identifier of at most 128 bytes ([A-Za-z0-9_.]).
func isIdent(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentByte(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

func leadingInt(s string) int {
	n, i := 0, 0
	for i < len(s) && i < 4 && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if n < 100 || n > 599 {
		return 0
	}
	return n
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimRight(s[:i], "\r")
	}
	return s
}

func clipField(s string) string {
	if len(s) > maxSDKField {
		s = strings.ToValidUTF8(s[:maxSDKField], "")
	}
	return s
}
