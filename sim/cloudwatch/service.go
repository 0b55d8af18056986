package cloudwatch

import (
	"sort"
	"sync"
	"time"
)

// Backend is what the service reads from the simulator.
type Backend interface {
	// CallCounts returns the accepted calls of operation op per minute,
	// keyed by the minute's Unix time in seconds.
	CallCounts(op string) map[int64]int64
	// Quota returns the applied quota value of op's API rate quota.
	Quota(op string) (float64, bool)
}

// Options configures a Service. The zero value (with a Backend) means
// every default.
type Options struct {
	// AccountID and Region build alarm ARNs; empty means 123456789012,
	// us-east-1.
	AccountID, Region string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxAlarms caps the alarms kept; 0 means 5000.
	MaxAlarms int
}

func (o Options) withDefaults() Options {
	if o.AccountID == "" {
		o.AccountID = "123456789012"
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxAlarms <= 0 {
		o.MaxAlarms = 5000
	}
	return o
}

// Service is the simulated CloudWatch endpoint. It is safe for concurrent
// use.
type Service struct {
	o  Options
	be Backend

	mu     sync.Mutex
	alarms map[string]*alarm // requires mu held
}

// New returns a Service reading metrics from be.
func New(be Backend, o Options) *Service {
	return &Service{o: o.withDefaults(), be: be, alarms: map[string]*alarm{}}
}

// alarm is a stored metric alarm with its state.
type alarm struct {
	in         putMetricAlarmInput
	state      string
	reason     string
	stateAt    time.Time
	transition time.Time
	configAt   time.Time
}

// names returns the alarm names sorted. Requires mu held.
func (s *Service) names() []string {
	out := make([]string, 0, len(s.alarms))
	for n := range s.alarms {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
