package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tollgatehq/tollgate/contactevents"
	"github.com/tollgatehq/tollgate/dispatch"

	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/client"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// Options configure Run. The zero value is the README's demo.
type Options struct {
	// Calls is the campaign's size (default 600).
	Calls int
	// Refused of them go to numbers the simulator refuses (default Calls/20).
	Refused int
	// Expiring of them have a deadline that passes before their turn
	// (default Calls/20).
	Expiring int
	// RateScale scales every published rate quota (default 10).
	RateScale float64
	// CallQuota is the instance's concurrent-active-calls quota, as in a
	// new account (default 10, the published default; never raised to fit
	// the campaign). CallMin and CallMax bound the simulated calls'
	// durations (default 1s and 2s: short, so the demo takes a minute or
	// two, not the hour real 30 s–3 min calls would).
	CallQuota        int
	CallMin, CallMax time.Duration
	// PollEvery is the dashboard's GetCurrentMetricData period (default 1s).
	PollEvery time.Duration
	// Out receives the summary; Progress the progress display (nil: none).
	Out      io.Writer
	Progress io.Writer
	// Bar draws a progress bar on Progress; otherwise a line every
	// ProgressEvery (default 2s).
	Bar           bool
	ProgressEvery time.Duration
	// Logger receives the server's log (nil discards it).
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.Calls == 0 {
		o.Calls = 600
	}
	if o.Refused == 0 {
		o.Refused = o.Calls / 20
	}
	if o.Expiring == 0 {
		o.Expiring = o.Calls / 20
	}
	if o.RateScale == 0 {
		o.RateScale = 10
	}
	if o.CallQuota == 0 {
		o.CallQuota = quotaDefault(quotas.ConcurrentActiveCalls)
	}
	if o.CallMin == 0 {
		o.CallMin = time.Second
	}
	if o.CallMax == 0 {
		o.CallMax = 2 * time.Second
	}
	if o.PollEvery == 0 {
		o.PollEvery = time.Second
	}
	if o.ProgressEvery == 0 {
		o.ProgressEvery = 2 * time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	switch {
	case o.Calls < 10 || o.Calls > 100000:
		return o, fmt.Errorf("calls: must be between 10 and 100000, got %d", o.Calls)
	case o.Refused < 0 || o.Expiring < 0 || o.Refused+o.Expiring >= o.Calls:
		return o, fmt.Errorf("refused + expiring (%d + %d) must be fewer than the calls (%d)", o.Refused, o.Expiring, o.Calls)
	case o.RateScale <= 0 || o.RateScale > 1000:
		return o, fmt.Errorf("rate-scale: must be > 0 and at most 1000, got %v", o.RateScale)
	case o.CallQuota < 1 || o.CallQuota > 100000:
		return o, fmt.Errorf("call quota: must be between 1 and 100000, got %d", o.CallQuota)
	case o.CallMin <= 0 || o.CallMax < o.CallMin || o.CallMax > time.Hour:
		return o, fmt.Errorf("call durations: want 0 < min (%v) <= max (%v) <= 1h", o.CallMin, o.CallMax)
	}
	return o, nil
}

// Summary is what the demo measured.
type Summary struct {
	Calls        int              // jobs submitted
	Succeeded    int64            // jobs acknowledged
	Placed       int64            // contacts the simulator started
	Dead         map[string]int64 // dead letters by reason
	DeadExamples map[string]string
	Throttles    int64            // 429s the simulator sent (all operations)
	ThrottlesBy  map[string]int64 // by operation
	Requests     int64            // StartOutboundVoiceContact requests the simulator received
	Polls        int64            // GetCurrentMetricData calls that succeeded
	Duplicates   int64            // duplicate_client_tokens
	Elapsed      time.Duration    // until every job finished and every call ended
	Minimum      time.Duration    // the bound: max(RateBound, CallsBound)
	Rate, Burst  float64
	QuotaNote    string

	// Calls in progress.
	CallQuota, CallBudget int           // the instance's quota, and the dispatcher's budget (quota − reserve)
	CallSeconds           float64       // summed duration of the calls placed (the simulator's)
	RateBound             time.Duration // (N − burst)/rate for the N requests made
	CallsBound            time.Duration // CallSeconds / CallBudget: the calls must fit in the budget's slots
	Reorders              int64         // calls past the quota (rejected_reorder): the customer heard a fast-busy tone
	Connected, Unanswered int64         // outcomes the dispatcher learned
}

// Run runs the demo until the campaign is done or ctx ends.
func Run(ctx context.Context, o Options) (Summary, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Calls: o.Calls}

	// The simulator, with the real rate quotas scaled, the instance's
	// concurrent-calls quota as a new account has it, short calls, and
	// its contact events delivered to the dispatcher (in AWS: EventBridge
	// → SQS → serve's dispatch.contact_events_queue).
	var disp atomic.Pointer[dispatch.Dispatcher]
	simSrv, err := sim.New(sim.Options{
		RateScale:     o.RateScale,
		Seed:          42,
		MetricDrift:   time.Second,
		CallDuration:  sim.Distribution{Kind: sim.DistUniform, Min: o.CallMin, Max: o.CallMax},
		ContactEvents: eventSink{&disp},
	})
	if err != nil {
		return sum, err
	}
	defer simSrv.Close()
	if err := simSrv.SetResourceQuota(quotas.ConcurrentActiveCalls, o.CallQuota); err != nil {
		return sum, err
	}
	sum.CallQuota, sum.CallBudget = o.CallQuota, o.CallQuota
	sum.QuotaNote = fmt.Sprintf("concurrent active calls per instance: %d (not raised), calls of %v to %v", o.CallQuota, o.CallMin, o.CallMax)
	voice, _ := quotas.Default().Scale(o.RateScale).API("StartOutboundVoiceContact")
	sum.Rate, sum.Burst = voice.Rate, float64(voice.Burst)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()

	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return sum, err
	}
	simURL := "http://" + simLn.Addr().String()
	simHTTP := &http.Server{Handler: simSrv, ReadHeaderTimeout: 10 * time.Second}
	wg.Add(1)
	go func() { defer wg.Done(); _ = simHTTP.Serve(simLn) }()
	defer simHTTP.Close()

	dir, err := os.MkdirTemp("", "tollgate-demo-")
	if err != nil {
		return sum, err
	}
	defer os.RemoveAll(dir)

	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.AWS.Region = "us-east-1"
	cfg.AWS.Endpoint = simURL
	cfg.Limits.RateScale = o.RateScale
	cfg.Dispatch.CallTimeout = 10 * time.Second
	// The dispatcher's budget is the same quota (a quota file would carry
	// an increase AWS granted; here it is the default).
	qf := filepath.Join(dir, "quotas.yaml")
	if err := os.WriteFile(qf, fmt.Appendf(nil, "resources:\n  - name: %s\n    value: %d\n", quotas.ConcurrentActiveCalls, o.CallQuota), 0o600); err != nil {
		return sum, err
	}
	cfg.Limits.QuotaFile = qf
	// The dashboard's poll: the wallboard query, through the poller.
	cfg.Poll.Instance, cfg.Poll.Queues, cfg.Poll.Interval = sim.DefaultInstanceID, sim.DefaultQueueID, o.PollEvery
	awsCfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTOLLGATEDEMO", "demo-secret", ""),
	}
	srv, err := server.New(ctx, cfg, app.Options{AWS: &awsCfg, Logger: o.Logger})
	if err != nil {
		return sum, err
	}
	disp.Store(srv.App().Dispatcher)
	token, _, err := server.LoadToken("", dir)
	if err != nil {
		return sum, err
	}
	srvCtx, stopSrv := context.WithCancel(context.Background())
	defer stopSrv()
	ready := make(chan string, 1)
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Run(srvCtx, func(u string) { ready <- u }) }()
	var base string
	select {
	case base = <-ready:
	case err := <-srvErr:
		return sum, err
	case <-ctx.Done():
		return sum, ctx.Err()
	}
	client := &client.Client{BaseURL: base, Token: token}

	fmt.Fprintf(o.Out, "tollgate demo: a %d-call dialer campaign through `tollgate serve` (embedded queue) against the Amazon Connect simulator\n", o.Calls)
	fmt.Fprintf(o.Out, "  quotas: the published table ×%g: StartOutboundVoiceContact %g calls/s, burst %d; GetCurrentMetricData %g/s\n",
		o.RateScale, voice.Rate, voice.Burst, must(quotas.Default().Scale(o.RateScale).API("GetCurrentMetricData")).Rate)
	fmt.Fprintf(o.Out, "  %d calls to refused numbers, %d low-priority calls that expire before their turn\n", o.Refused, o.Expiring)
	fmt.Fprintf(o.Out, "  %s; the dispatcher keeps its calls in progress under it and learns each end from contact events\n", sum.QuotaNote)
	fmt.Fprintf(o.Out, "  dashboard: %s/ (sign in with the token in %s) — the poller reads GetCurrentMetricData every %v at low priority\n\n",
		base, filepath.Join(dir, server.TokenFile), o.PollEvery)

	start := time.Now()
	if err := submit(ctx, client, o); err != nil {
		return sum, fmt.Errorf("submitting the campaign: %w", err)
	}
	if err := watch(ctx, client, o, start); err != nil {
		return sum, err
	}
	if err := waitEnds(ctx, srv.App().Dispatcher); err != nil {
		return sum, err
	}
	sum.Elapsed = time.Since(start)
	ds := srv.App().Dispatcher.Stats()
	sum.Connected, sum.Unanswered = ds.Connected, ds.EndedWithoutConnecting

	st, err := client.Stats(ctx)
	if err != nil {
		return sum, err
	}
	sum.Succeeded = st.Queue.Succeeded
	sum.Dead = st.Queue.DeadByReason
	sum.DeadExamples = map[string]string{}
	dl, err := client.DeadLetters(ctx, queue.ListOptions{Limit: queue.MaxListLimit})
	if err == nil {
		for _, j := range dl.Jobs {
			if _, ok := sum.DeadExamples[j.DeadReason]; !ok {
				sum.DeadExamples[j.DeadReason] = j.DeadDetail
			}
		}
	}
	stopSrv()
	if err := <-srvErr; err != nil {
		return sum, err
	}
	ss := simSrv.Stats()
	sum.Placed = ss.ContactsStarted
	sum.Duplicates = ss.DuplicateClientTokens
	sum.Throttles = ss.Totals.Throttled
	sum.ThrottlesBy = map[string]int64{}
	for op, c := range ss.Operations {
		if c.Throttled > 0 {
			sum.ThrottlesBy[op] = c.Throttled
		}
	}
	sum.Reorders = ss.RejectedReorder
	sum.CallSeconds = ss.CallSeconds
	sovc := ss.Operations["StartOutboundVoiceContact"]
	sum.Requests = sovc.Requests
	n := float64(sovc.Requests - sovc.Throttled)
	sum.RateBound = time.Duration(max(0, n-sum.Burst) / sum.Rate * float64(time.Second))
	sum.CallsBound = time.Duration(sum.CallSeconds / float64(sum.CallBudget) * float64(time.Second))
	sum.Minimum = max(sum.RateBound, sum.CallsBound)
	if snap, ok := srv.App().Poller.Snapshot(config.QueuesQuery, time.Now()); ok {
		sum.Polls = snap.Polls
	}

	writeSummary(o.Out, sum)
	return sum, nil
}

func must[T any](v T, _ bool) T { return v }

// campaign builds the jobs: ordinary calls, calls to refused numbers
// spread among them, and low-priority calls that expire.
func campaign(o Options, now time.Time) []api.JobSpec {
	jobs := make([]api.JobSpec, 0, o.Calls)
	normal := o.Calls - o.Refused - o.Expiring
	every := 0
	if o.Refused > 0 {
		every = max(1, normal/o.Refused)
	}
	refused := 0
	input := func(number string) []byte {
		return fmt.Appendf(nil, `{"InstanceId":%q,"ContactFlowId":%q,"QueueId":%q,"DestinationPhoneNumber":%q,"Attributes":{"campaign":"tollgate-demo"}}`,
			sim.DefaultInstanceID, sim.DefaultContactFlowID, sim.DefaultQueueID, number)
	}
	for i := 0; i < normal; i++ {
		jobs = append(jobs, api.JobSpec{Op: "StartOutboundVoiceContact", Input: input(fmt.Sprintf("+1206555%04d", i))})
		if every > 0 && refused < o.Refused && (i+1)%every == 0 {
			jobs = append(jobs, api.JobSpec{Op: "StartOutboundVoiceContact", Input: input(fmt.Sprintf("+1555000%04d", refused))})
			refused++
		}
	}
	for ; refused < o.Refused; refused++ {
		jobs = append(jobs, api.JobSpec{Op: "StartOutboundVoiceContact", Input: input(fmt.Sprintf("+1555000%04d", refused))})
	}
	// Low priority: leased only when the rest is done, which is after
	// their deadline (40% of the campaign's theoretical duration: the
	// longer of the rate's and the calls in progress's).
	voice, _ := quotas.Default().Scale(o.RateScale).API("StartOutboundVoiceContact")
	expected := max(max(0, float64(normal+o.Refused-voice.Burst))/voice.Rate,
		float64(normal)*(o.CallMin+o.CallMax).Seconds()/2/float64(o.CallQuota))
	deadline := now.Add(max(300*time.Millisecond, time.Duration(0.4*expected*float64(time.Second))))
	for i := 0; i < o.Expiring; i++ {
		jobs = append(jobs, api.JobSpec{Op: "StartOutboundVoiceContact", Priority: 1, NotAfter: deadline,
			Input: input(fmt.Sprintf("+1206777%04d", i))})
	}
	return jobs
}

// submit posts the campaign in chunks of 250 through the API.
func submit(ctx context.Context, c *client.Client, o Options) error {
	jobs := campaign(o, time.Now())
	for len(jobs) > 0 {
		n := min(250, len(jobs))
		if _, err := c.Submit(ctx, jobs[:n]); err != nil {
			return err
		}
		jobs = jobs[n:]
	}
	return nil
}

// watch shows progress until every job succeeded or was dead-lettered.
func watch(ctx context.Context, c *client.Client, o Options, start time.Time) error {
	var bar interface {
		Set(int) error
		Describe(string)
		Finish() error
	}
	if o.Bar && o.Progress != nil {
		bar = newBar(o.Progress, o.Calls)
	}
	lastLine := time.Now()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		st, err := c.Stats(ctx)
		if err != nil {
			return err
		}
		done := int(st.Queue.Succeeded + st.Queue.Dead)
		switch {
		case bar != nil:
			bar.Describe(fmt.Sprintf("calls: %d placed, %d dead letters", st.Queue.Succeeded, st.Queue.Dead))
			_ = bar.Set(done)
		case o.Progress != nil && (time.Since(lastLine) >= o.ProgressEvery || done >= o.Calls):
			lastLine = time.Now()
			el := time.Since(start).Seconds()
			fmt.Fprintf(o.Progress, "progress: %d/%d done (%d succeeded, %d dead letters, %d queued) after %.1fs, %.1f jobs/s\n",
				done, o.Calls, st.Queue.Succeeded, st.Queue.Dead, st.Queue.Ready+st.Queue.Delayed+st.Queue.InFlight, el, float64(done)/max(el, 0.001))
		}
		if done >= o.Calls {
			if bar != nil {
				_ = bar.Finish()
			}
			return nil
		}
	}
}

func writeSummary(w io.Writer, s Summary) {
	fmt.Fprintf(w, "\nsummary\n")
	fmt.Fprintf(w, "  calls placed (contacts started)  %6d of %d jobs (%d acknowledged)\n", s.Placed, s.Calls, s.Succeeded)
	var dead int64
	reasons := make([]string, 0, len(s.Dead))
	for r, n := range s.Dead {
		dead += n
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	fmt.Fprintf(w, "  dead letters                     %6d\n", dead)
	for _, r := range reasons {
		ex := s.DeadExamples[r]
		if len(ex) > 110 {
			ex = ex[:110] + "…"
		}
		fmt.Fprintf(w, "    %-14s %6d  %s\n", r, s.Dead[r], ex)
	}
	by := make([]string, 0, len(s.ThrottlesBy))
	for op, n := range s.ThrottlesBy {
		by = append(by, fmt.Sprintf("%s %d", op, n))
	}
	sort.Strings(by)
	note := ""
	if len(by) > 0 {
		note = " (" + strings.Join(by, ", ") + ")"
	}
	fmt.Fprintf(w, "  throttles met (simulator 429s)   %6d%s\n", s.Throttles, note)
	fmt.Fprintf(w, "  GetCurrentMetricData polls       %6d by the poller, through the same governor at low priority\n", s.Polls)
	fmt.Fprintf(w, "  duplicate_client_tokens          %6d\n", s.Duplicates)
	fmt.Fprintf(w, "  calls past the quota (reorder)   %6d  (rejected_reorder: customers who would hear a fast-busy tone)\n", s.Reorders)
	fmt.Fprintf(w, "  outcomes                         %6d connected, %d ended without connecting\n", s.Connected, s.Unanswered)
	ratio := 0.0
	if s.Minimum > 0 {
		ratio = float64(s.Elapsed) / float64(s.Minimum)
	}
	fmt.Fprintf(w, "  limit 1, the rate                %6.1fs = (N − burst)/rate = (%d − %g)/%g per s\n",
		s.RateBound.Seconds(), s.Requests, s.Burst, s.Rate)
	fmt.Fprintf(w, "  limit 2, calls in progress       %6.1fs = call time / calls at once = %.1f s / %d (quota %d)\n",
		s.CallsBound.Seconds(), s.CallSeconds, s.CallBudget, s.CallQuota)
	fmt.Fprintf(w, "  time                             %6.1fs until every call ended; bound %.1fs = the longer of the two; ratio %.3f\n",
		s.Elapsed.Seconds(), s.Minimum.Seconds(), ratio)
}

// quotaDefault is a resource quota's published default.
func quotaDefault(name string) int {
	r, _ := quotas.Default().Resource(name)
	return r.Default
}

// eventSink hands the simulator's contact events to the dispatcher, as
// the SQS consumer of serve's dispatch.contact_events_queue does.
type eventSink struct {
	d *atomic.Pointer[dispatch.Dispatcher]
}

func (s eventSink) PublishContactEvents(_ context.Context, events []json.RawMessage) error {
	d := s.d.Load()
	if d == nil {
		return nil
	}
	for _, b := range events {
		ev, err := contactevents.Parse(b)
		if err != nil {
			return err
		}
		if ev.Ended() {
			d.ContactEnded(dispatch.ContactEnd{ContactID: ev.ContactID, Answered: ev.Answered(),
				Reason: ev.DisconnectReason, Initiation: ev.Initiation, Disconnect: ev.Disconnect})
		}
	}
	return nil
}

// waitEnds waits until the dispatcher knows the end of every call it placed
// and has counted its outcome (an outcome is written just after the end is
// learned, off the event path). Every acknowledged job of the demo placed
// one call.
func waitEnds(ctx context.Context, d *dispatch.Dispatcher) error {
	for {
		st := d.Stats()
		if st.CallsInProgress == 0 && st.Connected+st.EndedWithoutConnecting+st.EndsUnknown >= st.Succeeded {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
