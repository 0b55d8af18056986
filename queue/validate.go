package queue

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits on what a job and its bookkeeping may carry.
const (
	// DefaultMaxInput is the default cap on a job's Input (bytes).
	DefaultMaxInput = 256 << 10
	// MaxIDLen and MaxTokenLen cap caller-set IDs and ClientTokens.
	MaxIDLen    = 64
	MaxTokenLen = 200
	// MaxOpLen caps Op; MaxGroupKeyLen caps GroupKey.
	MaxOpLen       = 128
	MaxGroupKeyLen = 128
	// MinPriority and MaxPriority bound Priority.
	MinPriority = -1000
	MaxPriority = 1000
	// MaxReasonLen caps a dead-letter reason; MaxDetailLen caps details and
	// LastError (longer text is cut at a character boundary).
	MaxReasonLen = 64
	MaxDetailLen = 4096
)

// Prepare validates jobs for Enqueue and returns copies ready to store: ID
// assigned where empty, ClientToken where empty (DeriveToken("",
// InstanceOf(Input), ID) when the caller named the job, a random UUIDv4
// otherwise), Status queued, EnqueuedAt now, VisibleAt
// max(now, NotBefore), and the queue-owned fields cleared. maxInput ≤ 0 means
// DefaultMaxInput. The first invalid job fails the batch with a *JobError;
// two jobs with one client token fail it with a *ConflictError.
// Backends call it at the top of Enqueue.
func Prepare(now time.Time, maxInput int, jobs []Job) ([]Job, error) {
	if maxInput <= 0 {
		maxInput = DefaultMaxInput
	}
	out := make([]Job, len(jobs))
	seen := make(map[string]int, len(jobs))
	tokens := make(map[string]int, len(jobs))
	for i, j := range jobs {
		bad := func(field, problem string) error {
			return &JobError{Index: i, ID: j.ID, Field: field, Problem: problem}
		}
		if j.ID != "" {
			if !validID(j.ID) {
				return nil, bad("ID", "must be 1–64 characters of A-Z a-z 0-9 _ . : -")
			}
			if k, dup := seen[j.ID]; dup {
				je := bad("ID", "repeats job "+strconv.Itoa(k+1)+" of the same batch").(*JobError)
				je.Repeats = k + 1
				return nil, je
			}
			seen[j.ID] = i
		}
		if !validOp(j.Op) {
			if j.Op == "" {
				return nil, bad("Op", "is required")
			}
			return nil, bad("Op", "must be 1–128 ASCII letters and digits starting with a letter")
		}
		if len(j.Input) > maxInput {
			return nil, bad("Input", "is "+strconv.Itoa(len(j.Input))+" bytes, over the limit of "+strconv.Itoa(maxInput))
		}
		if len(bytes.TrimSpace(j.Input)) > 0 {
			if !json.Valid(j.Input) {
				return nil, bad("Input", "is not valid JSON")
			}
			if t := bytes.TrimSpace(j.Input); t[0] != '{' {
				return nil, bad("Input", "must be a JSON object")
			}
		} else {
			j.Input = nil
		}
		if j.Priority < MinPriority || j.Priority > MaxPriority {
			return nil, bad("Priority", "must be between -1000 and 1000")
		}
		if !j.NotAfter.IsZero() && !j.NotAfter.After(now) {
			return nil, bad("NotAfter", "has already passed")
		}
		if !j.NotAfter.IsZero() && !j.NotBefore.IsZero() && !j.NotBefore.Before(j.NotAfter) {
			return nil, bad("NotBefore", "is not before NotAfter")
		}
		if j.ClientToken != "" && !validToken(j.ClientToken) {
			return nil, bad("ClientToken", "must be 1–200 characters of A-Z a-z 0-9 _ . -")
		}
		if len(j.GroupKey) > MaxGroupKeyLen || !utf8.ValidString(j.GroupKey) {
			return nil, bad("GroupKey", "must be valid UTF-8 of at most 128 bytes")
		}
		if err := CheckPool(j.Pool); err != nil {
			return nil, bad("Pool", "must be at most 64 characters of a-z 0-9 -")
		}
		callerID := j.ID != ""
		if !callerID {
			j.ID = NewID(now)
		}
		if j.ClientToken == "" {
			if callerID {
				j.ClientToken = DeriveToken("", InstanceOf(j.Input), j.ID)
			} else {
				j.ClientToken = NewToken()
			}
		}
		if k, dup := tokens[j.ClientToken]; dup {
			return nil, &ConflictError{Index: i, ID: j.ID, Field: "ClientToken", Other: out[k].ID}
		}
		tokens[j.ClientToken] = i
		j.Status = StatusQueued
		j.EnqueuedAt = now
		j.VisibleAt = now
		if j.NotBefore.After(now) {
			j.VisibleAt = j.NotBefore
		}
		j.Receives, j.FreeRequeues = 0, 0
		j.LastError, j.DeadReason, j.DeadDetail = "", "", ""
		j.FinishedAt = time.Time{}
		out[i] = j
	}
	return out, nil
}

// CheckLease validates Lease's arguments.
func CheckLease(n int, visibility time.Duration) error {
	if n < 1 {
		return &ArgError{Arg: "n", Problem: "must be at least 1"}
	}
	if visibility <= 0 {
		return &ArgError{Arg: "visibility", Problem: "must be positive"}
	}
	return nil
}

// CheckVisibility validates Extend's visibility.
func CheckVisibility(visibility time.Duration) error {
	if visibility <= 0 {
		return &ArgError{Arg: "visibility", Problem: "must be positive"}
	}
	return nil
}

// CheckRequeue validates a Requeue and returns it with Reason cut to
// MaxDetailLen.
func CheckRequeue(r Requeue) (Requeue, error) {
	if r.Delay < 0 {
		return r, &ArgError{Arg: "Delay", Problem: "must not be negative"}
	}
	r.Reason = Truncate(r.Reason, MaxDetailLen)
	return r, nil
}

// CheckDeadLetter validates DeadLetter's reason and returns the detail cut
// to MaxDetailLen.
func CheckDeadLetter(reason, detail string) (string, error) {
	if reason == "" || len(reason) > MaxReasonLen || !printableASCII(reason) {
		return "", &ArgError{Arg: "reason", Problem: "must be 1–64 printable ASCII characters"}
	}
	return Truncate(detail, MaxDetailLen), nil
}

// CheckSelector validates a Selector: exactly one of IDs and All.
func CheckSelector(s Selector) error {
	if s.All == (len(s.IDs) > 0) {
		return &ArgError{Arg: "Selector", Problem: "must set exactly one of IDs and All"}
	}
	if !s.All && s.Reason != "" {
		return &ArgError{Arg: "Selector.Reason", Problem: "applies only with All"}
	}
	return nil
}

// ListLimit returns o.Limit with the default applied and the cap enforced.
func ListLimit(o ListOptions) int {
	switch {
	case o.Limit <= 0:
		return DefaultListLimit
	case o.Limit > MaxListLimit:
		return MaxListLimit
	}
	return o.Limit
}

// Truncate cuts s to at most n bytes without splitting a UTF-8 character,
// and replaces invalid UTF-8.
func Truncate(s string, n int) string {
	if !utf8.ValidString(s) {
		s = string(bytes.ToValidUTF8([]byte(s), []byte("\uFFFD")))
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func validID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlnum(c) || c == '_' || c == '.' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// ValidID reports whether s is an acceptable job ID.
func ValidID(s string) bool { return validID(s) }

func validToken(s string) bool {
	if len(s) == 0 || len(s) > MaxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlnum(c) || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func validOp(s string) bool {
	if len(s) == 0 || len(s) > MaxOpLen || !isLetter(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool  { return isLetter(c) || c >= '0' && c <= '9' }
