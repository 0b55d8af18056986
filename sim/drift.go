package sim

import (
	"hash/fnv"
	"time"
)

// drift is the simulated background traffic of an instance during one
// step of Options.MetricDrift: contacts waiting in queue and agents busy
// with contacts the simulator does not track one by one. It is a pure
// function of the seed, the instance and the step, so a run is
// reproducible and every caller sees the same values within a step.
type drift struct {
	waiting int     // contacts waiting, over the instance's queues
	busy    int     // agents on those contacts
	oldest  float64 // age of the oldest waiting contact, seconds
}

// driftAt returns inst's drift at now; the zero drift when
// Options.MetricDrift is 0.
func (s *Server) driftAt(inst *instance, now time.Time) drift {
	every := s.o.MetricDrift
	if every <= 0 {
		return drift{}
	}
	since := now.Sub(inst.created)
	step := int64(since / every)
	h := fnv.New64a()
	var b [16]byte
	for i := range 8 {
		b[i] = byte(uint64(s.o.Seed) >> (8 * i))
		b[8+i] = byte(uint64(step) >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(inst.id))
	v := h.Sum64()
	d := drift{waiting: int(v % 9), busy: int((v >> 8) % uint64(len(inst.users)+1))}
	if d.waiting > 0 {
		d.oldest = float64((v>>16)%20) + (since % every).Seconds()
	}
	return d
}
