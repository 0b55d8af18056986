package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/quotas/quotafile"
)

// Pool is one quota pool as New built it from the pools section: the
// pool's AWS configuration (its credentials, checked at start), its quota
// table, its own admission (buckets keyed by its account and Region, in
// Redis too), its governor and its calls-in-progress budget. The
// dispatcher gets one dispatch.Pool from each (pools_dispatch.go).
type Pool struct {
	Config config.Pool
	// AWS signs the pool's requests: its credentials and Region.
	AWS aws.Config
	// Endpoint and CampaignsEndpoint are the pool's, else aws.endpoint and
	// aws.campaigns_endpoint; empty means the Region's.
	Endpoint, CampaignsEndpoint string
	// Quotas is the table with limits.quota_file's overrides, then the
	// pool's quota_file's, before rate_scale and burst_headroom.
	Quotas     *quotas.Table
	Admission  *Admission
	Governor   *governor.Governor
	CallBudget *callbudget.Budget // nil when dispatch.call_pacing is off

	connect *connect.Client // governed, for the poller (pollClient)
	quotas  *quotaWatch     // limits.quota_sync of the pool's account; nil when off
}

// credentialsTimeout bounds the check of a pool's credentials at start
// (an STS AssumeRole, a profile's SSO token, the default chain).
const credentialsTimeout = 15 * time.Second

// buildPools builds every pool of cfg.Pools, in order. observer is what
// every pool's governor reports to (besides its admission's own): the
// front end's hooks and the poller's, as the single pool's governor;
// perPool, when not nil, adds an observer of each pool's own. On error the
// pools built so far are closed and the error names the pool and field.
func buildPools(ctx context.Context, cfg config.Config, given *aws.Config, lookupEnv func(string) (string, bool), observer governor.Observer, perPool func(string) governor.Observer, reg prometheus.Registerer, log *slog.Logger) ([]*Pool, error) {
	var out []*Pool
	fail := func(err error) ([]*Pool, error) {
		closePools(out)
		return nil, err
	}
	for i, pc := range cfg.Pools {
		label := pc.Label(i)
		plog := log.With("pool", pc.Name)
		p := &Pool{Config: pc, Endpoint: pc.Endpoint, CampaignsEndpoint: pc.CampaignsEndpoint}
		if p.Endpoint == "" {
			p.Endpoint = cfg.AWS.Endpoint
		}
		if p.CampaignsEndpoint == "" {
			p.CampaignsEndpoint = cfg.AWS.CampaignsEndpoint
		}
		var err error
		if p.AWS, err = poolAWS(ctx, label, pc, p.Endpoint, given, lookupEnv, plog); err != nil {
			return fail(err)
		}
		if p.Quotas, err = poolQuotaTable(cfg.Limits, label, pc); err != nil {
			return fail(err)
		}
		limits := cfg.Limits
		limits.Account = pc.Account // the buckets (and Redis keys) are the pool's account's
		var preg prometheus.Registerer
		if reg != nil {
			preg = prometheus.WrapRegistererWith(prometheus.Labels{"pool": pc.Name}, reg)
		}
		if p.Admission, err = NewAdmission(AdmissionOptions{
			Limits:     limits,
			Table:      p.Quotas,
			Region:     pc.Region,
			Logger:     plog,
			Registerer: preg,
		}); err != nil {
			return fail(fmt.Errorf("%s: %w", label, err))
		}
		// limits.quota_sync: the pool's account's Service Quotas (read
		// with the pool's credentials at the pool's endpoint) set the
		// pool's buckets and, with call pacing, its instance's budget.
		pcfg := cfg
		pcfg.AWS.Endpoint = p.Endpoint
		p.quotas = newQuotaWatch(pcfg, p.AWS, p.Admission.Limiter, plog, preg)
		obs := governor.Observers(observer, p.quotas.observer())
		if perPool != nil {
			obs = governor.Observers(obs, perPool(pc.Name))
		}
		p.Governor = p.Admission.NewGovernor(governor.Options{
			MaxAttempts: cfg.Dispatch.MaxAttempts,
			MaxElapsed:  cfg.Dispatch.CallTimeout,
			Observer:    obs,
		})
		p.CallBudget = callBudget(cfg, p.Quotas)
		opts := []func(*connect.Options){awssdk.Govern(p.Governor)}
		if p.Endpoint != "" {
			opts = append(opts, func(co *connect.Options) { co.BaseEndpoint = aws.String(p.Endpoint) })
		}
		p.connect = connect.NewFromConfig(p.AWS, opts...)
		if p.CallBudget != nil {
			// Known from the start, so the quota sync reads the pool's
			// instance before its first call.
			p.CallBudget.Limit(pc.InstanceID)
		}
		p.quotas.watchCalls(p.CallBudget, p.connect)
		plog.Info("quota pool", "account", pc.Account, "region", pc.Region, "instance", pc.InstanceID,
			"credentials", pc.Credentials.Kind(), "weight", pc.Weight)
		out = append(out, p)
	}
	return out, nil
}

// closePools closes every pool's admission (the Redis limiters).
func closePools(ps []*Pool) error {
	var errs []error
	for _, p := range ps {
		if p.Admission != nil {
			if err := p.Admission.Close(); err != nil {
				errs = append(errs, fmt.Errorf("pool %s: %w", p.Config.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// poolQuotaTable is the published table with limits.quota_file's
// overrides, then the pool's own quota_file's, both matched against the
// pool's account and Region.
func poolQuotaTable(l config.Limits, label string, pc config.Pool) (*quotas.Table, error) {
	l.Account = pc.Account
	t, err := quotaTable(l, pc.Region)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	if pc.QuotaFile == "" {
		return t, nil
	}
	ov, err := quotafile.Load(pc.QuotaFile)
	if err != nil {
		return nil, fmt.Errorf("%s.quota_file: %w", label, err)
	}
	if err := t.Apply(ov, pc.Account, pc.Region); err != nil {
		return nil, fmt.Errorf("%s.quota_file: %w", label, err)
	}
	return t, nil
}

// poolAWS returns the pool's AWS configuration, its credentials retrieved
// once now so a bad one fails the start naming the pool and field:
//
//   - profile: the shared-config profile;
//   - role_arn: the role assumed through STS (the optional sts_endpoint
//     as the STS client's endpoint, external_id), signed with the default
//     chain's credentials — or, with a custom sts_endpoint and no
//     credentials, the placeholder ones a simulator accepts;
//   - access_key_id: that key with the secret from the environment
//     variable secret_env names (refused when it is unset);
//   - otherwise the default chain (or the given configuration's
//     credentials), with the placeholder credentials for a custom
//     endpoint when the chain has none, as for a single account.
//
// given, when set (tests, the demo), is the base instead of the default
// chain: its HTTP client and options carry over, its Region is replaced.
func poolAWS(ctx context.Context, label string, pc config.Pool, endpoint string, given *aws.Config, lookupEnv func(string) (string, bool), log *slog.Logger) (aws.Config, error) {
	cr := pc.Credentials
	load := func(profile string) (aws.Config, error) {
		opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(pc.Region)}
		if profile != "" {
			opts = append(opts, awsconfig.WithSharedConfigProfile(profile))
		}
		if endpoint != "" || cr.STSEndpoint != "" {
			// A simulator or a proxy: never wait for the instance metadata
			// service (see loadAWS).
			opts = append(opts, awsconfig.WithEC2IMDSClientEnableState(imds.ClientDisabled))
		}
		c, err := awsconfig.LoadDefaultConfig(ctx, opts...)
		c.HTTPClient = awssdk.HTTPClient(c.HTTPClient)
		return c, err
	}
	var c aws.Config
	var err error
	switch {
	case given != nil:
		c = given.Copy()
	case cr.Profile != "":
		if c, err = load(cr.Profile); err != nil {
			return c, fmt.Errorf("%s.credentials.profile: %w", label, err)
		}
	default:
		if c, err = load(""); err != nil {
			return c, fmt.Errorf("%s: loading the AWS configuration: %w", label, err)
		}
	}
	c.Region = pc.Region
	retrieve := func(p aws.CredentialsProvider) error {
		rctx, cancel := context.WithTimeout(ctx, credentialsTimeout)
		defer cancel()
		_, err := p.Retrieve(rctx)
		return err
	}
	switch cr.Kind() {
	case "access-key":
		secret, ok := lookupEnv(cr.SecretEnv)
		if !ok || secret == "" {
			return c, fmt.Errorf("%s.credentials.secret_env: the environment variable %s is not set (it must hold the secret of access key %s)", label, cr.SecretEnv, cr.AccessKeyID)
		}
		c.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(cr.AccessKeyID, secret, ""))
		return c, nil
	case "profile":
		if given != nil {
			pcfg, err := load(cr.Profile)
			if err != nil {
				return c, fmt.Errorf("%s.credentials.profile: %w", label, err)
			}
			c.Credentials = pcfg.Credentials
		}
		if err := retrieve(c.Credentials); err != nil {
			return c, fmt.Errorf("%s.credentials.profile: no usable credentials in profile %q: %w", label, cr.Profile, err)
		}
		return c, nil
	case "role":
		base := c.Copy()
		if base.Credentials == nil || retrieve(base.Credentials) != nil {
			if cr.STSEndpoint == "" {
				return c, fmt.Errorf("%s.credentials.role_arn: no credentials in the default chain to call STS AssumeRole with", label)
			}
			log.Warn("no AWS credentials found; signing the AssumeRole request to the custom STS endpoint with placeholder credentials", "sts_endpoint", cr.STSEndpoint)
			base.Credentials = credentials.NewStaticCredentialsProvider("AKIDTOLLGATEPLACEHOLDER", "placeholder", "")
		}
		client := sts.NewFromConfig(base, func(o *sts.Options) {
			if cr.STSEndpoint != "" {
				o.BaseEndpoint = aws.String(cr.STSEndpoint)
			}
		})
		prov := stscreds.NewAssumeRoleProvider(client, cr.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "tollgate-" + pc.Name
			if cr.ExternalID != "" {
				o.ExternalID = aws.String(cr.ExternalID)
			}
		})
		c.Credentials = aws.NewCredentialsCache(prov)
		if err := retrieve(c.Credentials); err != nil {
			return c, fmt.Errorf("%s.credentials.role_arn: cannot assume %s: %w", label, cr.RoleARN, err)
		}
		log.Info("assumed role", "role_arn", cr.RoleARN)
		return c, nil
	}
	if c.Credentials == nil || retrieve(c.Credentials) != nil {
		if endpoint == "" {
			return c, fmt.Errorf("%s.credentials: no usable credentials in the default chain (environment, shared files, SSO, IMDS): set profile, role_arn or access_key_id", label)
		}
		log.Warn("no AWS credentials found; signing requests to the custom endpoint with placeholder credentials", "endpoint", endpoint)
		c.Credentials = credentials.NewStaticCredentialsProvider("AKIDTOLLGATEPLACEHOLDER", "placeholder", "")
	}
	return c, nil
}

// poolOf returns the pool whose instance the input names (its InstanceId
// member), else the first: how the poller's reads pick their account.
func poolOf(ps []*Pool, in json.RawMessage) *Pool {
	var v struct{ InstanceId string }
	if json.Unmarshal(in, &v) == nil && v.InstanceId != "" {
		for _, p := range ps {
			if p.Config.InstanceID == v.InstanceId {
				return p
			}
		}
	}
	return ps[0]
}

// bucketSet is one hierarchy whose levels are saved across restarts
// (buckets.go): the single account's, or one pool's.
type bucketSet struct {
	path string
	adm  *Admission
}

// lateObserver forwards to o, set after the governors that report to it
// are built and before any of them is called (the poller's observer, with
// pools: the poller needs a pool's table first).
type lateObserver struct{ o governor.Observer }

// ObserveAttempt implements governor.Observer.
func (l *lateObserver) ObserveAttempt(at governor.Attempt) {
	if l.o != nil {
		l.o.ObserveAttempt(at)
	}
}

// ObserveOutcome implements governor.Observer.
func (l *lateObserver) ObserveOutcome(oc governor.Outcome) {
	if l.o != nil {
		l.o.ObserveOutcome(oc)
	}
}
