package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/tollgatehq/tollgate/queue"
)

// ErrInvalidInput matches every *InputError.
var ErrInvalidInput = errors.New("dispatch: invalid job")

// InputError says which part of a job cannot be delivered and why.
type InputError struct {
	Op      string // the job's operation
	Field   string // "Op", "ClientToken", "Input" or "Input.<Member>", e.g. "Input.DestinationPhoneNumber"
	Problem string // e.g. "is required"
}

func (e *InputError) Error() string {
	if e.Op != "" && e.Field != "Op" {
		return fmt.Sprintf("%s: %s %s", e.Op, e.Field, e.Problem)
	}
	return e.Field + " " + e.Problem
}

// Is reports ErrInvalidInput.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// Check validates a job before it is stored, so that bad work is refused at
// the door instead of being dead-lettered later:
//
//   - Op is a supported operation (Supported);
//   - Input decodes into the operation's aws-sdk-go-v2 input struct (or, for
//     PutDialRequestBatch, into a DialRequest) with no unknown members;
//   - the SDK's own client-side validation passes: required members and
//     non-empty path labels, checked by running the real client's
//     initialize and serialize steps without sending anything;
//   - a ClientToken given both on the job and inside Input is the same.
//
// It returns the job normalized: ClientToken taken from Input.ClientToken
// when the job has none, and for a dial request GroupKey set to the campaign
// when empty. The queue's own checks (queue.Prepare) still apply on Enqueue.
// now is used for deadline checks.
func Check(j queue.Job, now time.Time) (queue.Job, error) {
	if j.Op == OpPutDialRequestBatch {
		d, err := decodeDial(j.Input)
		if err != nil {
			return j, err
		}
		if err := d.validate(now); err != nil {
			return j, err
		}
		if j.GroupKey == "" && len(d.CampaignID) <= queue.MaxGroupKeyLen {
			j.GroupKey = d.CampaignID
		}
		return j, nil
	}
	spec, ok := connectOps[j.Op]
	if !ok {
		if j.Op == "" {
			return j, &InputError{Field: "Op", Problem: "is required"}
		}
		return j, &InputError{Field: "Op", Problem: fmt.Sprintf("%q is not a supported operation (see GET /v1/ops)", clip(j.Op, 80))}
	}
	in, err := decodeInput(spec, j.Input)
	if err != nil {
		return j, err
	}
	if spec.token {
		if tok := inputToken(in); tok != "" {
			switch {
			case j.ClientToken == "":
				j.ClientToken = tok
			case j.ClientToken != tok:
				return j, &InputError{Op: j.Op, Field: "ClientToken", Problem: "differs from Input.ClientToken"}
			}
		}
	}
	if err := dryRun(spec, in); err != nil {
		return j, err
	}
	return j, nil
}

// decodeInput decodes raw (a JSON object, or empty) into a fresh SDK input
// value of spec's operation. Member names match case-insensitively, as
// encoding/json does; unknown members are refused.
func decodeInput(spec opSpec, raw json.RawMessage) (any, error) {
	in := spec.newInput()
	if len(bytes.TrimSpace(raw)) == 0 {
		return in, nil
	}
	if err := strictDecode(raw, in); err != nil {
		return nil, inputDecodeError(spec.name, err)
	}
	return in, nil
}

// strictDecode decodes exactly one JSON value into v, refusing unknown
// fields and trailing data.
func strictDecode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("has data after the JSON object")
	}
	return nil
}

// inputDecodeError turns a JSON decoding error into an *InputError naming
// the member when it can.
func inputDecodeError(op string, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := "Input"
		if te.Field != "" {
			field += "." + te.Field
		}
		return &InputError{Op: op, Field: field, Problem: fmt.Sprintf("cannot be a JSON %s (want %s)", te.Value, goTypeName(te.Type))}
	case errors.As(err, &se):
		return &InputError{Op: op, Field: "Input", Problem: "is not valid JSON: " + se.Error()}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &InputError{Op: op, Field: "Input", Problem: "is not valid JSON: it ends early"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &InputError{Op: op, Field: "Input." + name, Problem: "is not a member of " + op + "'s input"}
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return &InputError{Op: op, Field: "Input", Problem: "has a timestamp that is not RFC 3339: " + clip(pe.Value, 64)}
	}
	return &InputError{Op: op, Field: "Input", Problem: clip(err.Error(), 200)}
}

func goTypeName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map:
		return "an object"
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			return "an RFC 3339 timestamp"
		}
		return "an object"
	}
	return t.String()
}

// inputToken returns in's ClientToken member, or "".
func inputToken(in any) string {
	f := reflect.ValueOf(in).Elem().FieldByName("ClientToken")
	if !f.IsValid() || f.IsNil() {
		return ""
	}
	return f.Elem().String()
}

// setInputToken sets in's ClientToken member to tok.
func setInputToken(in any, tok string) {
	f := reflect.ValueOf(in).Elem().FieldByName("ClientToken")
	if f.IsValid() && f.CanSet() {
		f.Set(reflect.ValueOf(aws.String(tok)))
	}
}

// errDryRun stops a dry-run call after the SDK has validated and serialized
// the input, before anything would be signed or sent.
var errDryRun = errors.New("dispatch: dry run")

type dryRunMiddleware struct{}

func (dryRunMiddleware) ID() string { return "TollgateDryRun" }

func (dryRunMiddleware) HandleBuild(context.Context, middleware.BuildInput, middleware.BuildHandler) (
	middleware.BuildOutput, middleware.Metadata, error,
) {
	return middleware.BuildOutput{}, middleware.Metadata{}, errDryRun
}

// dryRunClient is a connect client whose every call stops at the build
// step: it needs no credentials and reaches no network.
var dryRunClient = sync.OnceValue(func() *connect.Client {
	return connect.New(connect.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("https://dry-run.invalid"),
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error {
			return s.Build.Add(dryRunMiddleware{}, middleware.Before)
		}},
	})
})

// dryRun runs in through the SDK's validation and serialization.
func dryRun(spec opSpec, in any) error {
	_, err := spec.call(context.Background(), dryRunClient(), in)
	if errors.Is(err, errDryRun) {
		return nil
	}
	var ipe smithy.InvalidParamsError
	if errors.As(err, &ipe) && ipe.Len() > 0 {
		errs := ipe.Errs()
		first := errs[0]
		field := "Input"
		var pe smithy.InvalidParamError
		if errors.As(first, &pe) {
			field = "Input." + strings.TrimPrefix(pe.Field(), spec.name+"Input.")
		}
		problem := "is invalid: " + first.Error()
		if strings.HasPrefix(first.Error(), "missing required field") {
			problem = "is required"
		}
		if len(errs) > 1 {
			problem += fmt.Sprintf(" (and %d more problem(s))", len(errs)-1)
		}
		return &InputError{Op: spec.name, Field: field, Problem: problem}
	}
	var ser *smithy.SerializationError
	if errors.As(err, &ser) {
		msg := ser.Error()
		if _, m, ok := strings.Cut(msg, "input member "); ok {
			name, rest, _ := strings.Cut(m, " ")
			return &InputError{Op: spec.name, Field: "Input." + name, Problem: rest}
		}
		return &InputError{Op: spec.name, Field: "Input", Problem: "cannot be serialized: " + clip(msg, 200)}
	}
	if err == nil {
		return nil
	}
	return &InputError{Op: spec.name, Field: "Input", Problem: "is refused by the SDK: " + clip(err.Error(), 200)}
}

// clip shortens s to at most n bytes for messages.
func clip(s string, n int) string {
	s = queue.Truncate(s, n)
	return s
}
