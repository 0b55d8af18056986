package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/queue"
)

// MaxJobsPerRequest caps the jobs of one POST /v1/jobs.
const MaxJobsPerRequest = 10000

// SubmitError is a problem with one submitted job, or with the body as a
// whole (Index −1).
//
// Numbering: the message counts jobs from 1, as lines are counted ("job 2
// (line 3)" is the second job, on the body's third line); Index, the
// JSON "index", is the 0-based position in the submission (an array
// index, for programs).
type SubmitError struct {
	Index   int    // 0-based position of the job; −1 for the whole body
	Line    int    // 1-based line of the body where the job starts; 0 if unknown
	Field   string // the JSON member the user wrote: "op", "not_after", "input", "input.DestinationPhoneNumber"
	Message string
}

func (e *SubmitError) Error() string {
	var where string
	switch {
	case e.Index < 0:
		where = "body"
	case e.Line > 0:
		where = fmt.Sprintf("job %d (line %d)", e.Index+1, e.Line)
	default:
		where = fmt.Sprintf("job %d", e.Index+1)
	}
	return where + ": " + e.Message
}

// jsonFields maps queue.Job's and dispatch's Go field names to the JSON
// members of a submission.
var jsonFields = map[string]string{
	"ID": "id", "Op": "op", "Input": "input", "Priority": "priority", "NotAfter": "not_after",
	"NotBefore": "not_before", "ClientToken": "client_token", "GroupKey": "group_key",
}

// jsonField turns a Go field name ("NotAfter", "Input.DestinationPhoneNumber")
// into the member the user wrote ("not_after", "input.DestinationPhoneNumber").
func jsonField(goField string) string {
	head, rest, nested := strings.Cut(goField, ".")
	if j, ok := jsonFields[head]; ok {
		if nested {
			return j + "." + rest
		}
		return j
	}
	return goField
}

// jsonNames rewrites Go field names inside a problem text ("is not before
// NotAfter", "differs from Input.ClientToken").
var jsonNames = strings.NewReplacer("NotAfter", "not_after", "NotBefore", "not_before", "Input.", "input.",
	"ClientToken", "client_token", "GroupKey", "group_key")

// badUTF8 returns the offset of the first invalid UTF-8 byte in b, or -1.
func badUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// parseJobs reads a submission: one JSON object, a JSON array of objects,
// or JSON Lines (one object per line; blank lines are skipped). Unknown
// members are refused so a misspelt "not_after" is not silently ignored.
func parseJobs(body []byte) ([]api.JobSpec, []int, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, nil, &SubmitError{Index: -1, Message: "is empty: send a job object, a JSON array of jobs or JSON Lines"}
	}
	if trimmed[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, nil, &SubmitError{Index: -1, Message: "is not a valid JSON array: " + jsonProblem(err, trimmed)}
		}
		if len(raws) > MaxJobsPerRequest {
			return nil, nil, &SubmitError{Index: -1, Message: fmt.Sprintf("holds %d jobs; at most %d per request", len(raws), MaxJobsPerRequest)}
		}
		specs := make([]api.JobSpec, len(raws))
		for i, raw := range raws {
			if err := decodeSpec(raw, &specs[i]); err != nil {
				return nil, nil, specError(i, 0, err)
			}
		}
		return specs, nil, nil
	}
	var specs []api.JobSpec
	var lines []int
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), len(body)+1)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		if len(specs) == MaxJobsPerRequest {
			return nil, nil, &SubmitError{Index: -1, Message: fmt.Sprintf("holds more than %d jobs; at most %d per request", MaxJobsPerRequest, MaxJobsPerRequest)}
		}
		var spec api.JobSpec
		if err := decodeSpec(text, &spec); err != nil {
			return nil, nil, specError(len(specs), line, err)
		}
		specs = append(specs, spec)
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, &SubmitError{Index: -1, Message: err.Error()}
	}
	return specs, lines, nil
}

func decodeSpec(raw []byte, spec *api.JobSpec) error {
	if at := badUTF8(raw); at >= 0 {
		// encoding/json would turn it into U+FFFD in strings and keep it
		// in input: refuse it, naming the member.
		var probe struct {
			Input json.RawMessage `json:"input"`
		}
		if json.Unmarshal(raw, &probe) == nil && badUTF8(probe.Input) >= 0 {
			return &fieldError{"input", fmt.Sprintf("is not valid UTF-8 (byte %d of the input)", badUTF8(probe.Input))}
		}
		return fmt.Errorf("is not valid UTF-8 (byte %d of the job)", at)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(spec); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return fmt.Errorf("%s: cannot be a JSON %s", te.Field, te.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return fmt.Errorf("%s is not a job member (want id, op, input, priority, not_after, not_before, client_token, group_key)",
				strings.TrimPrefix(err.Error(), "json: unknown field "))
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return errors.New("is not valid JSON: it ends early")
		}
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("not_after/not_before: must be RFC 3339 timestamps, got %q", pe.Value)
		}
		return errors.New("is not a valid JSON job object: " + jsonProblem(err, raw))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("has data after the job object (one job per line)")
	}
	return nil
}

// fieldError is a decoding problem with one member.
type fieldError struct{ field, problem string }

func (e *fieldError) Error() string { return e.field + ": " + e.problem }

// specError is the SubmitError for job i's decoding error.
func specError(i, line int, err error) *SubmitError {
	se := &SubmitError{Index: i, Line: line, Message: err.Error()}
	var fe *fieldError
	if errors.As(err, &fe) {
		se.Field = fe.field
	}
	return se
}

// jsonProblem describes a JSON error with its byte offset when known.
func jsonProblem(err error, data []byte) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("%v (line %d, byte %d)", se, line, se.Offset)
	}
	return err.Error()
}

// prepareJobs validates every spec with check (dispatch.Check, or with
// pools the dispatcher's pool-aware check: app.CheckJob). The first problem
// is returned, naming the job and the field. A job the caller named (id)
// without a client_token gets queue.DeriveToken(account, its InstanceId,
// id), so submitting it twice can never start two contacts (with pools the
// dispatcher derives each pool's token from it again, so pools never share
// one).
func prepareJobs(specs []api.JobSpec, lines []int, now time.Time, account string, check func(queue.Job, time.Time) (queue.Job, error)) ([]queue.Job, error) {
	if check == nil {
		check = dispatch.Check
	}
	jobs := make([]queue.Job, len(specs))
	for i, spec := range specs {
		j, err := check(spec.Job(), now)
		if err != nil {
			se := &SubmitError{Index: i, Message: jsonNames.Replace(err.Error())}
			if lines != nil {
				se.Line = lines[i]
			}
			var ie *dispatch.InputError
			if errors.As(err, &ie) {
				se.Field = jsonField(ie.Field)
				se.Message = se.Field + " " + jsonNames.Replace(ie.Problem)
				if ie.Op != "" && se.Field != "op" {
					se.Message = ie.Op + ": " + se.Message
				}
			}
			return nil, se
		}
		if j.ID != "" && j.ClientToken == "" {
			j.ClientToken = queue.DeriveToken(account, queue.InstanceOf(j.Input), j.ID)
		}
		jobs[i] = j
	}
	return jobs, nil
}
