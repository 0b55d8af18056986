package backoff

import (
	"math/rand/v2"
	"sync"
)

// Rand is a seeded source of uniform numbers in [0,1) for Delay, safe for
// concurrent use. The same seed gives the same sequence.
type Rand struct {
	mu sync.Mutex // guards r
	r  *rand.Rand
}

// NewRand returns a Rand seeded with seed.
func NewRand(seed uint64) *Rand {
	return &Rand{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Float64 returns a uniform number in [0,1). A nil *Rand uses the
// process-wide random source.
func (r *Rand) Float64() float64 {
	if r == nil {
		return rand.Float64()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.Float64()
}
