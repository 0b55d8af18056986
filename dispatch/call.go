package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/connect"
)

// IsRead reports whether op is a supported Connect operation that only
// reads (Get…, List…, Describe…, Search…): the operations a metrics poller
// may repeat on a schedule.
func IsRead(op string) bool {
	if _, ok := connectOps[op]; !ok {
		return false
	}
	for _, p := range []string{"Get", "List", "Describe", "Search"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// Call invokes op on c with input (a JSON document of the operation's
// aws-sdk-go-v2 input struct; unknown members are refused) and returns the
// output as JSON, without the SDK's result metadata. It is how a caller
// that knows operations only by name (the metrics poller) uses the governed
// client of the dispatcher; ctx carries the call options
// (awssdk.WithCallOptions).
func Call(ctx context.Context, c *connect.Client, op string, input json.RawMessage) (json.RawMessage, error) {
	spec, ok := connectOps[op]
	if !ok {
		return nil, &InputError{Field: "Op", Problem: fmt.Sprintf("%q is not a supported operation (see GET /v1/ops)", clip(op, 80))}
	}
	in, err := decodeInput(spec, input)
	if err != nil {
		return nil, err
	}
	out, err := spec.call(ctx, c, in)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("%s: encoding the output: %w", op, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err == nil {
		delete(m, "ResultMetadata")
		if b2, err := json.Marshal(m); err == nil {
			b = b2
		}
	}
	return b, nil
}
