package triage

import "time"

// Report is the result of Analyze.
type Report struct {
	Files          int              `json:"files"`
	Bytes          int64            `json:"bytes"`   // bytes of log data after decompression
	Records        int64            `json:"records"` // Amazon Connect records analysed
	SDKRecords     int64            `json:"sdk_records,omitempty"`
	Skipped        int64            `json:"skipped_other_services"` // records of other AWS services
	Start          time.Time        `json:"start"`
	End            time.Time        `json:"end"`
	Accounts       []string         `json:"accounts"`
	Regions        []string         `json:"regions"`
	Calls          int64            `json:"calls"`
	Errors         int64            `json:"errors"`
	Throttles      int64            `json:"throttles"` // failures of the quota classes: rate-throttle, concurrency-quota, hard-quota
	ErrorsByClass  map[string]int64 `json:"errors_by_class"`
	Findings       []Finding        `json:"findings"`
	Operations     []OpStats        `json:"operations"`
	Problems       []Problem        `json:"problems"`
	ProblemCount   int              `json:"problem_count"`
	Approximate    bool             `json:"approximate"` // caller counts were pruned (very many distinct callers)
	ElapsedSeconds float64          `json:"elapsed_seconds"`
}

// Partial reports whether some input could not be used.
func (r *Report) Partial() bool { return r.ProblemCount > 0 }

// Finding is one throttled operation (one bucket: account, Region, API):
// what failed, how hard the bucket was pushed, who pushed it, why, and the
// fix.
type Finding struct {
	Operation       string        `json:"operation"`
	Account         string        `json:"account"`
	Region          string        `json:"region"`
	Class           string        `json:"class"` // the dominant quota class: rate-throttle, concurrency-quota or hard-quota
	Cause           string        `json:"cause"` // spike, provisioning, polling, synchronized-start, retry-storm, sustained-overload or unknown
	AlsoCauses      []string      `json:"also_causes,omitempty"`
	Calls           int64         `json:"calls"`
	Errors          int64         `json:"errors"`
	Throttles       int64         `json:"throttles"`
	Codes           []CodeCount   `json:"codes"`
	PeakRate1s      float64       `json:"peak_rate_1s"` // busiest second, calls/s
	PeakRate1m      float64       `json:"peak_rate_1m"` // busiest minute, average calls/s
	PeakAt          time.Time     `json:"peak_at"`
	QuotaRate       float64       `json:"quota_rate"`
	QuotaBurst      int           `json:"quota_burst"`
	QuotaCode       string        `json:"quota_code,omitempty"`
	QuotaName       string        `json:"quota_name,omitempty"`
	QuotaAdjustable bool          `json:"quota_adjustable"`
	QuotaListed     bool          `json:"quota_listed"`   // false: the default 2/s burst 5 was assumed
	Utilization1s   float64       `json:"utilization_1s"` // peak_rate_1s / quota_rate
	Utilization1m   float64       `json:"utilization_1m"` // peak_rate_1m / quota_rate
	FirstThrottle   time.Time     `json:"first_throttle"`
	LastThrottle    time.Time     `json:"last_throttle"`
	TopCallers      []Caller      `json:"top_callers"`          // by throttles
	TopByCalls      []Caller      `json:"top_callers_by_calls"` // by calls
	Roles           []Contributor `json:"top_roles,omitempty"`
	Sessions        []Contributor `json:"top_sessions,omitempty"`
	UserAgents      []Contributor `json:"top_user_agents,omitempty"`
	SourceIPs       []Contributor `json:"top_source_ips,omitempty"`
	// Repeats counts refused attempts that repeated an earlier refused
	// attempt of the same request (same caller and ClientToken, or the same
	// parameters); RepeatGapSeconds is their mean spacing.
	Repeats          int64   `json:"repeated_attempts"`
	RepeatGapSeconds float64 `json:"repeat_gap_seconds,omitempty"`
	// DemandRate1m estimates the busiest minute's distinct requests per
	// second: its rate without the retries (a request refused fewer times
	// than its caller's most-refused one counts as retried until it
	// succeeded).
	DemandRate1m float64  `json:"demand_rate_1m"`
	Why          []string `json:"why"`
	Fix          string   `json:"fix"`
	QuotaRequest string   `json:"quota_request,omitempty"` // a drafted increase request
	Advice       string   `json:"advice"`                  // awserr's advice for the dominant code
	FromSDKLogs  bool     `json:"from_sdk_logs,omitempty"` // counts come from SDK error logs: failures only
	Series       Series   `json:"series"`

	staggerCalls  float64 // calls in a synchronized-start window
	staggerAgents int64   // distinct callers in it
}

// CodeCount counts one error code.
type CodeCount struct {
	Code    string `json:"code"`
	Class   string `json:"class"`
	Count   int64  `json:"count"`
	Message string `json:"message,omitempty"`
}

// Caller is one principal's share of an operation.
type Caller struct {
	Principal string    `json:"principal"`
	Session   string    `json:"session,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	SourceIP  string    `json:"source_ip,omitempty"`
	Calls     int64     `json:"calls"`
	Throttles int64     `json:"throttles"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
}

// Contributor is one value of a caller dimension (role, session, user
// agent, source IP) with its calls and throttles.
type Contributor struct {
	Key       string `json:"key"`
	Calls     int64  `json:"calls"`
	Throttles int64  `json:"throttles"`
}

// Series is a time series of one operation at a fixed step. With Step > 1
// each point is the busiest second of its step, so points compare directly
// with the per-second quota.
type Series struct {
	Start     time.Time `json:"start"`
	Step      int       `json:"step_seconds"`
	Calls     []int64   `json:"calls"`
	Errors    []int64   `json:"errors"`
	Throttles []int64   `json:"throttles"`
}

// OpStats is the traffic of one operation (one bucket).
type OpStats struct {
	Operation     string           `json:"operation"`
	Account       string           `json:"account"`
	Region        string           `json:"region"`
	Source        string           `json:"source"`
	Calls         int64            `json:"calls"`
	Errors        int64            `json:"errors"`
	Throttles     int64            `json:"throttles"`
	ErrorsByClass map[string]int64 `json:"errors_by_class,omitempty"`
	Codes         []CodeCount      `json:"codes,omitempty"`
	PeakRate1s    float64          `json:"peak_rate_1s"`
	PeakRate1m    float64          `json:"peak_rate_1m"`
	QuotaRate     float64          `json:"quota_rate"`
	QuotaBurst    int              `json:"quota_burst"`
	Utilization1m float64          `json:"utilization_1m"`
	First         time.Time        `json:"first"`
	Last          time.Time        `json:"last"`
	FromSDKLogs   bool             `json:"from_sdk_logs,omitempty"`
	PerMinute     []MinutePoint    `json:"per_minute"`
}

// MinutePoint is one minute of one operation.
type MinutePoint struct {
	T         time.Time `json:"t"`
	Calls     int64     `json:"calls"`
	Errors    int64     `json:"errors"`
	Throttles int64     `json:"throttles"`
	PeakCalls int64     `json:"peak_calls_1s"` // busiest second of the minute
}

// Causes, as reported in Finding.Cause.
const (
	CauseSpike             = "spike"
	CauseProvisioning      = "provisioning"
	CausePolling           = "polling"
	CauseSynchronizedStart = "synchronized-start"
	CauseRetryStorm        = "retry-storm"
	CauseSustained         = "sustained-overload"
	CauseUnknown           = "unknown"
)
