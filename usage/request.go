package usage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	sqtypes "github.com/aws/aws-sdk-go-v2/service/servicequotas/types"

	"github.com/tollgatehq/tollgate/triage"
)

// DraftInput is the measured data a draft is written from.
type DraftInput struct {
	Quota        Quota
	Usage        Usage
	Triage       *triage.Report // optional: the finding for the operation gives throttles, cause and callers
	Agents       int            // from --agents; 0: not given
	CallsPerHour float64        // contacts per hour at peak, from --calls-per-hour; 0: not given
	CallsPerCall float64        // API calls of this operation per contact; 0 means 1
	Desired      float64        // 0: computed (1.5 × the larger of measured peak and business need)
}

// Draft is a quota-increase request with its justification.
type Draft struct {
	Op            string    `json:"op"`
	Code          string    `json:"quota_code"`
	QuotaName     string    `json:"quota_name"`
	Applied       float64   `json:"applied"`
	Default       float64   `json:"default"`
	Adjustable    bool      `json:"adjustable"`
	Desired       float64   `json:"desired"`
	PeakRate      float64   `json:"peak_rate"`             // busiest minute, average calls/s
	PeakSecond    float64   `json:"peak_second,omitempty"` // busiest second
	BusiestMinute time.Time `json:"busiest_minute"`
	Throttles     int64     `json:"throttles"`
	Callers       []string  `json:"callers,omitempty"`
	Agents        int       `json:"agents,omitempty"`
	CallsPerHour  float64   `json:"calls_per_hour,omitempty"`
	BusinessRate  float64   `json:"business_rate,omitempty"` // calls/s the stated business load needs
	Cause         string    `json:"cause"`                   // business-load, retry-storm or polling
	FixFirst      string    `json:"fix_first,omitempty"`     // set when the data says: fix this before asking
	Justification string    `json:"justification"`
}

// DraftRequest writes the justification AWS asks for from measured data.
// When the data shows a retry storm or polling instead of business load,
// the draft says so and FixFirst says what to fix before asking.
func DraftRequest(in DraftInput) Draft {
	q, u := in.Quota, in.Usage
	d := Draft{Op: q.Op, Code: q.Code, QuotaName: q.Name, Applied: q.Applied, Default: q.Default, Adjustable: q.Adjustable,
		PeakRate: round2(u.PeakRate), PeakSecond: u.PeakSecond, BusiestMinute: u.PeakMinuteAt, Throttles: int64(u.Throttles),
		Agents: in.Agents, CallsPerHour: in.CallsPerHour, Cause: "business-load"}
	if f := finding(in.Triage, q.Op); f != nil {
		d.Throttles = max(d.Throttles, f.Throttles)
		d.PeakSecond = math.Max(d.PeakSecond, f.PeakRate1s)
		for _, c := range f.TopCallers {
			if len(d.Callers) < 5 {
				d.Callers = append(d.Callers, c.Principal)
			}
		}
		switch f.Cause {
		case "retry-storm", "polling":
			d.Cause = f.Cause
		}
	}
	per := in.CallsPerCall
	if per <= 0 {
		per = 1
	}
	if in.CallsPerHour > 0 {
		d.BusinessRate = round2(in.CallsPerHour * per / 3600)
		// Three times what the business needs is not business load.
		if d.Cause == "business-load" && d.BusinessRate > 0 && d.PeakRate > 3*d.BusinessRate {
			d.Cause = "polling"
		}
	}
	switch d.Cause {
	case "retry-storm":
		d.FixFirst = "fix the retry storm first: retries must draw from the same token bucket as first attempts (tollgate governor), with capped, jittered backoff; an increase would only be consumed by retries"
	case "polling":
		d.FixFirst = "fix the polling first: poll once and serve many (one scheduled poller with a cache, EventBridge events instead of Describe/List loops); the measured rate is far above what the stated business load needs"
	}
	need := math.Max(math.Max(d.PeakRate, d.PeakSecond), d.BusinessRate)
	d.Desired = in.Desired
	if d.Desired <= 0 {
		d.Desired = math.Max(math.Ceil(need*1.5), math.Ceil(q.Applied)+1)
	}
	d.Justification = justification(d)
	return d
}

func finding(r *triage.Report, op string) *triage.Finding {
	if r == nil {
		return nil
	}
	for i := range r.Findings {
		if r.Findings[i].Operation == op {
			return &r.Findings[i]
		}
	}
	return nil
}

func justification(d Draft) string {
	var b strings.Builder
	fmt.Fprintf(&b, "We request an increase of the Amazon Connect quota %q (%s) from %g to %g requests per second.", d.QuotaName, d.Code, d.Applied, d.Desired)
	fmt.Fprintf(&b, " Measured in CloudWatch AWS/Usage CallCount, the busiest minute (%s) averaged %.2f %s calls per second",
		d.BusiestMinuteText(), d.PeakRate, d.Op)
	if d.PeakSecond > 0 {
		fmt.Fprintf(&b, ", with a busiest second of %g calls", d.PeakSecond)
	}
	fmt.Fprintf(&b, "; %d calls were throttled.", d.Throttles)
	if d.Agents > 0 || d.CallsPerHour > 0 {
		fmt.Fprintf(&b, " Business load: %d agents, %g contacts per hour at peak, needing about %.2f %s calls per second.", d.Agents, d.CallsPerHour, d.BusinessRate, d.Op)
	}
	if len(d.Callers) > 0 {
		fmt.Fprintf(&b, " Callers: %s.", strings.Join(d.Callers, ", "))
	}
	b.WriteString(" Calls already pass through client-side rate limiting with jittered backoff (Tollgate).")
	return b.String()
}

// BusiestMinuteText formats the busiest minute.
func (d Draft) BusiestMinuteText() string {
	if d.BusiestMinute.IsZero() {
		return "unknown"
	}
	return d.BusiestMinute.UTC().Format("2006-01-02 15:04 UTC")
}

// RenderMarkdown writes d as the markdown a human pastes into the console
// or a support case.
func (d Draft) RenderMarkdown(w io.Writer) {
	fmt.Fprintf(w, "## Quota increase request: %s (%s)\n\n", d.QuotaName, d.Code)
	if d.FixFirst != "" {
		fmt.Fprintf(w, "> **Do not submit yet.** The data shows %s, not business load: %s.\n\n", d.Cause, d.FixFirst)
	}
	fmt.Fprintf(w, "| | |\n|---|---|\n| operation | %s |\n| applied / default | %g / %g requests/s |\n| desired | %g requests/s |\n",
		d.Op, d.Applied, d.Default, d.Desired)
	fmt.Fprintf(w, "| busiest minute | %s, %.2f calls/s |\n| throttles | %d |\n", d.BusiestMinuteText(), d.PeakRate, d.Throttles)
	if d.PeakSecond > 0 {
		fmt.Fprintf(w, "| busiest second | %g calls |\n", d.PeakSecond)
	}
	if d.Agents > 0 || d.CallsPerHour > 0 {
		fmt.Fprintf(w, "| agents | %d |\n| contacts per hour | %g |\n", d.Agents, d.CallsPerHour)
	}
	if !d.Adjustable {
		fmt.Fprintf(w, "| adjustable | no: AWS will not raise it |\n")
	}
	fmt.Fprintf(w, "\n### Justification\n\n%s\n", d.Justification)
}

// RenderJSON writes d as indented JSON.
func (d Draft) RenderJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(d)
}

// SubmitAPI is the part of the Service Quotas client Submit uses.
type SubmitAPI interface {
	GetServiceQuota(context.Context, *servicequotas.GetServiceQuotaInput, ...func(*servicequotas.Options)) (*servicequotas.GetServiceQuotaOutput, error)
	RequestServiceQuotaIncrease(context.Context, *servicequotas.RequestServiceQuotaIncreaseInput, ...func(*servicequotas.Options)) (*servicequotas.RequestServiceQuotaIncreaseOutput, error)
}

// Submitted is the outcome of Submit.
type Submitted struct {
	DryRun  bool    `json:"dry_run"`
	Op      string  `json:"op"`
	Code    string  `json:"quota_code"`
	Applied float64 `json:"applied"`
	Desired float64 `json:"desired"`
	ID      string  `json:"request_id,omitempty"`
	Status  string  `json:"status,omitempty"`
}

// Submit checks the quota's current value and adjustability and, when yes
// is true, calls RequestServiceQuotaIncrease; otherwise it is a dry run. A
// value at or below the applied one, or a quota AWS does not adjust, is
// refused with a *RefusalError.
func Submit(ctx context.Context, sq SubmitAPI, op, code string, desired float64, yes bool) (Submitted, error) {
	out := Submitted{DryRun: !yes, Op: op, Code: code, Desired: desired}
	if !(desired > 0) || math.IsInf(desired, 0) {
		return out, &RefusalError{Op: op, Code: code, Reason: fmt.Sprintf("desired value must be a positive number, got %v", desired)}
	}
	cur, err := sq.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String(ServiceCode), QuotaCode: aws.String(code)})
	if err != nil {
		var nsr *sqtypes.NoSuchResourceException
		if errors.As(err, &nsr) {
			return out, fmt.Errorf("%w: quota %s (%s) is not a connect quota: %v", ErrUnknownOperation, code, op, err)
		}
		return out, wrapAWS(err, "servicequotas", "GetServiceQuota", code)
	}
	out.Applied = aws.ToFloat64(cur.Quota.Value)
	if !cur.Quota.Adjustable {
		return out, &RefusalError{Op: op, Code: code, Reason: "AWS does not adjust this quota (Adjustable=false); spread or cache the calls instead"}
	}
	if desired <= out.Applied {
		return out, &RefusalError{Op: op, Code: code, Reason: fmt.Sprintf("desired value %g is not above the applied value %g", desired, out.Applied)}
	}
	if !yes {
		return out, nil
	}
	r, err := sq.RequestServiceQuotaIncrease(ctx, &servicequotas.RequestServiceQuotaIncreaseInput{
		ServiceCode: aws.String(ServiceCode), QuotaCode: aws.String(code), DesiredValue: aws.Float64(desired)})
	if err != nil {
		var dup *sqtypes.ResourceAlreadyExistsException
		if errors.As(err, &dup) {
			return out, &RefusalError{Op: op, Code: code, Reason: "a request for this quota is already open; track it with `tollgate quota request status`"}
		}
		return out, wrapAWS(err, "servicequotas", "RequestServiceQuotaIncrease", code)
	}
	out.ID = aws.ToString(r.RequestedQuota.Id)
	out.Status = string(r.RequestedQuota.Status)
	return out, nil
}
