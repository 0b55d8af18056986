package collect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/tollgatehq/tollgate/audit"
	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/quotas"
)

// Errors returned by Collect and LoadConfig.
var (
	ErrRegion      = errors.New("unknown Region")
	ErrCredentials = errors.New("no AWS credentials")
	ErrUnreachable = errors.New("AWS endpoint unreachable")
)

// sdkServiceIDs maps a governed client to the SDK service id used in
// AWS_ENDPOINT_URL_<ID>.
var sdkServiceIDs = map[string]string{
	"lambda": "LAMBDA", "iam": "IAM", "sqs": "SQS", "eventbridge": "EVENTBRIDGE",
	"scheduler": "SCHEDULER", "cloudtrail": "CLOUDTRAIL", "connect": "CONNECT", "sts": "STS", "s3": "S3",
}

var regionRE = regexp.MustCompile(`^(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|eusc)-[a-z]+-\d{1,2}$`)

// LoadConfig loads the SDK's default configuration (environment, shared
// files, IMDS) for region and checks it: the Region must look like an AWS
// Region and credentials must resolve. endpoint, when not empty, becomes
// every client's base endpoint; otherwise the SDK's own
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> apply.
func LoadConfig(ctx context.Context, region, endpoint string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, err
	}
	cfg.HTTPClient = awssdk.HTTPClient(cfg.HTTPClient)
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	if cfg.Region == "" {
		return cfg, fmt.Errorf("%w: no Region given (use --region or AWS_REGION)", ErrRegion)
	}
	if !regionRE.MatchString(cfg.Region) {
		return cfg, fmt.Errorf("%w %q: not an AWS Region name (e.g. us-east-1)", ErrRegion, cfg.Region)
	}
	if cfg.Credentials == nil {
		return cfg, fmt.Errorf("%w: none configured", ErrCredentials)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return cfg, fmt.Errorf("%w: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE (%v)", ErrCredentials, err)
	}
	return cfg, nil
}

// Endpoints returns, per service, the endpoint URL a client built from the
// environment uses: endpoint when set, else AWS_ENDPOINT_URL_<SERVICE>, else
// AWS_ENDPOINT_URL; "" means AWS's own. The fix plan's commands use the
// same endpoints.
func Endpoints(endpoint string) map[string]string {
	out := map[string]string{}
	for svc, id := range sdkServiceIDs {
		switch {
		case endpoint != "":
			out[svc] = endpoint
		case os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == "true":
		case os.Getenv("AWS_ENDPOINT_URL_"+id) != "":
			out[svc] = os.Getenv("AWS_ENDPOINT_URL_" + id)
		default:
			out[svc] = os.Getenv("AWS_ENDPOINT_URL")
		}
	}
	return out
}

// Options configure Collect. Config is required; the zero value of the
// other fields means the default.
type Options struct {
	Config aws.Config
	// Endpoint is the --endpoint override recorded for the fix plan (the
	// Config already carries it as BaseEndpoint).
	Endpoint string
	// InstanceID limits the Connect checks to one instance; "" means every
	// instance ListInstances returns.
	InstanceID string
	// Concurrency bounds the calls in flight per phase. 0 means 8.
	Concurrency int
	// Table is the Connect quota table. nil means quotas.Default().
	Table *quotas.Table
	// Quotas replaces ControlPlane when not nil.
	Quotas []ServiceQuota
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Table == nil {
		o.Table = quotas.Default()
	}
	if o.Quotas == nil {
		o.Quotas = ControlPlane
	}
	return o
}

// collector holds the clients and what has been read so far.
type collector struct {
	o   Options
	inv *audit.Inventory

	lambda     *lambda.Client
	lambdaGet  *lambda.Client
	iam        *iam.Client
	sqs        *sqs.Client
	events     *eventbridge.Client
	scheduler  *scheduler.Client
	cloudtrail *cloudtrail.Client
	connect    *connect.Client
	sts        *sts.Client

	mu       sync.Mutex // guards inv, calls, gapSeen, fatal
	calls    map[[2]string]int
	gapSeen  map[string]bool
	fatal    error
	roleDocs map[string][]audit.PolicyDocument // role ARN → documents
}

// Collect reads the account and returns the inventory and the calls made.
func Collect(ctx context.Context, o Options) (*audit.Inventory, []audit.CallCount, error) {
	o = o.withDefaults()
	c := &collector{o: o, calls: map[[2]string]int{}, gapSeen: map[string]bool{}}
	c.inv = &audit.Inventory{
		Region: o.Config.Region, Queues: map[string]audit.Queue{}, Checked: map[string]bool{},
		Endpoints: Endpoints(o.Endpoint),
	}
	c.clients()

	var wg sync.WaitGroup
	var fns []fnInfo
	var mappings []audit.Mapping
	queueURLs := map[string]string{}
	var rules []ruleInfo
	var schedules []schedInfo
	run := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	run(func() { c.identity(ctx) })
	run(func() { fns = c.functions(ctx) })
	run(func() { c.roles(ctx) })
	run(func() { mappings = c.mappings(ctx) })
	run(func() { queueURLs = c.queueURLs(ctx) })
	run(func() { rules = c.rules(ctx) })
	run(func() { schedules = c.schedules(ctx) })
	run(func() { c.instances(ctx) })
	run(func() { c.trails(ctx) })
	wg.Wait()
	if c.fatal != nil {
		return nil, nil, c.fatal
	}
	c.assemble(ctx, fns, mappings, queueURLs, rules, schedules)
	if c.fatal != nil {
		return nil, nil, c.fatal
	}
	var counts []audit.CallCount
	for k, n := range c.calls {
		counts = append(counts, audit.CallCount{Service: k[0], Op: k[1], Calls: n})
	}
	sort.Slice(counts, func(i, j int) bool {
		if counts[i].Service != counts[j].Service {
			return counts[i].Service < counts[j].Service
		}
		return counts[i].Op < counts[j].Op
	})
	return c.inv, counts, nil
}

// clients builds one governed client per service.
func (c *collector) clients() {
	govs := map[string]*governor.Governor{}
	for _, q := range c.o.Quotas {
		svc := q.Service
		obs := governor.ObserverFuncs{Attempt: func(a governor.Attempt) {
			c.mu.Lock()
			c.calls[[2]string{svc, a.Op}]++
			c.mu.Unlock()
		}}
		govs[svc] = newGovernor(q, c.o.Table, governor.Options{MaxAttempts: 4, MaxElapsed: time.Minute, Observer: obs})
	}
	gov := func(svc string) *governor.Governor {
		if g := govs[svc]; g != nil {
			return g
		}
		g := newGovernor(ServiceQuota{Service: svc}, c.o.Table, governor.Options{MaxAttempts: 4, MaxElapsed: time.Minute})
		govs[svc] = g
		return g
	}
	cfgFor := func(svc string) aws.Config {
		cfg := c.o.Config.Copy()
		awssdk.GovernConfig(&cfg, gov(svc))
		return cfg
	}
	// The SDK lets AWS_ENDPOINT_URL_<SERVICE> override Config.BaseEndpoint;
	// --endpoint must win over both, so it is set on each client last.
	ep := aws.String(c.o.Endpoint)
	if c.o.Endpoint == "" {
		ep = nil
	}
	c.lambda = lambda.NewFromConfig(cfgFor("lambda"), func(o *lambda.Options) { setEndpoint(&o.BaseEndpoint, ep) })
	c.lambdaGet = lambda.NewFromConfig(cfgFor("lambda-get"), func(o *lambda.Options) { setEndpoint(&o.BaseEndpoint, ep) })
	c.iam = iam.NewFromConfig(cfgFor("iam"), func(o *iam.Options) { setEndpoint(&o.BaseEndpoint, ep) })
	c.sqs = sqs.NewFromConfig(cfgFor("sqs"), func(o *sqs.Options) { setEndpoint(&o.BaseEndpoint, ep) })
	c.events = eventbridge.NewFromConfig(cfgFor("eventbridge"), func(o *eventbridge.Options) { setEndpoint(&o.BaseEndpoint, ep) })
	c.scheduler = scheduler.NewFromConfig(cfgFor("scheduler"), func(o *scheduler.Options) { setEndpoint(&o.BaseEndpoint, ep) })
	c.cloudtrail = cloudtrail.NewFromConfig(cfgFor("cloudtrail"), func(o *cloudtrail.Options) { setEndpoint(&o.BaseEndpoint, ep) })
	c.connect = connect.NewFromConfig(cfgFor("connect"), func(o *connect.Options) { setEndpoint(&o.BaseEndpoint, ep) })
	c.sts = sts.NewFromConfig(cfgFor("sts"), func(o *sts.Options) { setEndpoint(&o.BaseEndpoint, ep) })
}

func setEndpoint(dst **string, ep *string) {
	if ep != nil {
		*dst = ep
	}
}

// fail records err from a call of op on client svc while reading what. An
// API error (the service answered) becomes a gap in the inventory; any
// other failure (DNS, refused connection, credentials) stops the audit.
// It returns true so callers can write `if err != nil && c.fail(…)`.
func (c *collector) fail(svc, op, what string, err error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if isTransport(err) {
		if c.fatal == nil {
			c.fatal = unreachable(svc, c.inv.Endpoints[endpointKey(svc)], c.inv.Region, err)
		}
		return true
	}
	action := Action(svc, op)
	if c.gapSeen[action] {
		return true
	}
	c.gapSeen[action] = true
	msg := err.Error()
	denied := false
	var api smithy.APIError
	if errors.As(err, &api) {
		msg = api.ErrorCode()
		if m := api.ErrorMessage(); m != "" {
			msg += ": " + m
		}
		denied = accessDenied(api.ErrorCode())
	}
	c.inv.Gaps = append(c.inv.Gaps, audit.Gap{Service: iamService(svc), What: what, Action: action, Err: msg, Denied: denied})
	return true
}

// accessDenied reports the error codes AWS services use for a refused
// permission.
func accessDenied(code string) bool {
	switch code {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "UnauthorizedException":
		return true
	}
	return false
}

// isTransport reports a failure to talk to AWS at all: DNS, a refused or
// reset connection, missing credentials. The service did not answer.
func isTransport(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		return false
	}
	var ne net.Error
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) || errors.As(err, &op) || errors.As(err, &ne) ||
		strings.Contains(err.Error(), "retrieve credentials") || strings.Contains(err.Error(), "no such host")
}

func iamService(svc string) string {
	if p, ok := iamPrefix[svc]; ok {
		return p
	}
	return svc
}

func endpointKey(svc string) string {
	if svc == "lambda-get" {
		return "lambda"
	}
	return svc
}

func unreachable(svc, endpoint, region string, err error) error {
	var dns *net.DNSError
	where := "the AWS endpoint in " + region
	if endpoint != "" {
		where = endpoint
	}
	switch {
	case errors.As(err, &dns):
		return fmt.Errorf("%w: %s: cannot resolve %s for %s (is Region %q right?): %v", ErrUnreachable, svc, dns.Name, where, region, err)
	case strings.Contains(err.Error(), "credential"):
		return fmt.Errorf("%w: %v", ErrCredentials, err)
	}
	return fmt.Errorf("%w: %s at %s: %v", ErrUnreachable, svc, where, err)
}

func (c *collector) checked(key string) {
	c.mu.Lock()
	c.inv.Checked[key] = true
	c.mu.Unlock()
}

// forEach calls f for every item with at most n calls in flight.
func forEach[T any](n int, items []T, f func(T)) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(it)
		}()
	}
	wg.Wait()
}
