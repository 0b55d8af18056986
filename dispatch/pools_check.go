package dispatch

import (
	"errors"
	"time"

	"github.com/tollgatehq/tollgate/queue"
)

// Check validates a job before it is stored, as the package-level Check
// does, and with Options.Pools it is pool-aware: Pool must name a
// configured pool; InstanceId may be omitted (each pool substitutes its
// own) and, when given, must be a pool's instance (the job is then pinned
// to that pool: Pool is set); ContactFlowId, QueueId, SourcePhoneNumber
// and a dial request's campaignId may be logical names, which must have an
// id in every pool the job may run on; and the SDK's validation runs on
// the input as each of those pools would send it. Errors are *InputError
// naming the field (and the pool).
func (d *Dispatcher) Check(j queue.Job, now time.Time) (queue.Job, error) {
	if d.pools == nil {
		return Check(j, now)
	}
	if err := queue.CheckPool(j.Pool); err != nil {
		return j, &InputError{Op: j.Op, Field: "Pool", Problem: "must be at most 64 characters of a-z 0-9 -"}
	}
	cands, pinned, err := d.candidates(j)
	if err != nil {
		return j, err
	}
	if j.Op == OpPutDialRequestBatch {
		dr, err := decodeDial(j.Input)
		if err != nil {
			return j, err
		}
		for _, p := range cands {
			if _, err := d.mapID(j.Op, "CampaignId", dr.CampaignID, p); err != nil {
				return j, err
			}
		}
		return Check(j, now)
	}
	spec, ok := connectOps[j.Op]
	if !ok {
		return Check(j, now)
	}
	if _, err := decodeInput(spec, j.Input); err != nil {
		return j, err
	}
	for _, p := range cands {
		in, _ := decodeInput(spec, j.Input)
		if err := d.substitute(j.Op, in, p); err != nil {
			return j, err
		}
		if err := dryRun(spec, in); err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				ie.Problem += " (as sent by pool " + p.Name + ")"
			}
			return j, err
		}
	}
	if spec.token {
		in, _ := decodeInput(spec, j.Input)
		if tok := inputToken(in); tok != "" {
			switch {
			case j.ClientToken == "":
				j.ClientToken = tok
			case j.ClientToken != tok:
				return j, &InputError{Op: j.Op, Field: "ClientToken", Problem: "differs from Input.ClientToken"}
			}
		}
	}
	if pinned && j.Pool == "" {
		j.Pool = cands[0].Name
	}
	return j, nil
}
