package dispatch

import (
	"context"

	"github.com/tollgatehq/tollgate/queue"
)

// CallForTest makes job's call once, as a worker would, without settling it.
func CallForTest(ctx context.Context, d *Dispatcher, job queue.Job) (any, error) {
	spec := connectOps[job.Op]
	in, err := decodeInput(spec, job.Input)
	if err != nil {
		return nil, err
	}
	if spec.token {
		setInputToken(in, job.ClientToken)
	}
	return spec.call(ctx, d.connect, in)
}
