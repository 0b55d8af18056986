package config

import (
	"time"

	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/tollgatehq/tollgate/sim"
)

// SimEnvPrefix prefixes the environment variables of `tollgate sim`.
const SimEnvPrefix = "TOLLGATE_SIM_"

// DefaultSim returns the simulator's configuration with the defaults its
// flags show (the other fields' zero values mean sim.Options' defaults).
func DefaultSim() sim.Config {
	return sim.Config{Addr: sim.DefaultAddr, Accounts: 1, RateScale: 1, CallLimit: sim.CallLimitReorder, MetricDrift: 2 * time.Second}
}

// SimTable returns the field table of `tollgate sim`, bound to c. The keys
// are sim.Config's YAML keys.
func SimTable(c *sim.Config) Table {
	secret := func(f Field) Field { f.Secret = true; return f }
	return NewTable(SimEnvPrefix,
		Bind("addr", "addr", "listen address (host:port; port 0 picks a free port)", &c.Addr),
		Bind("account_id", "", "the simulated account (12 digits)", &c.AccountID),
		Bind("accounts", "accounts", "serve this many accounts (1..64), each with its own instance, ids and buckets, chosen by the signing access key (AKIDSIMACCOUNT00000k)", &c.Accounts),
		Bind("region", "", "the simulated Region", &c.Region),
		Bind("seed_file", "seed-file", "state file (YAML or JSON): instances, queues, flows, users, phone numbers, campaigns", &c.SeedFile),
		Bind("state", "", "inline state (the seed file's format)", &c.State),
		Bind("quota_file", "quota-file", "quota overrides in the quotafile format (the same file the library reads)", &c.QuotaFile),
		Bind("quotas", "quota", "OP=RATE:BURST[:CODE] bucket override (repeatable), e.g. ListQueues=1:1", &c.Quotas),
		Bind("resources", "", "resource quota overrides, e.g. concurrent-active-calls: 20", &c.Resources),
		Bind("rate_scale", "rate-scale", "multiply every API rate and burst (e.g. 10 for fast tests)", &c.RateScale),
		Bind("seed", "seed", "seed for ids, contact durations and faults", &c.Seed),
		Bind("retry_after", "retry-after", "add x-amz-retry-after (ms) to rate throttles", &c.RetryAfter),
		Bind("call_limit", "call-limit", "beyond concurrent active calls: reorder (200, like AWS) or error (429 LimitExceededException)", &c.CallLimit),
		Bind("refused_destination_prefixes", "refuse-prefix", "destination prefix StartOutboundVoiceContact refuses (repeatable; default +1555000)", &c.RefusedDestinationPrefixes),
		Bind("account_rate", "account-rate", "optional account-wide ceiling across all operations (requests/s)", &c.AccountRate),
		Bind("account_burst", "account-burst", "burst of the account-wide ceiling", &c.AccountBurst),
		Bind("dial_rate", "", "PutDialRequestBatch items per second per campaign", &c.DialRate),
		Bind("dial_burst", "", "PutDialRequestBatch item burst per campaign", &c.DialBurst),
		Bind("max_body_bytes", "", "largest request body accepted (bytes)", &c.MaxBodyBytes),
		Bind("body_timeout", "", "longest wait for one request's body (default 30s); a slower client gets 408", &c.BodyTimeout),
		Bind("metric_drift", "metric-drift", "move the real-time metrics (seeded background traffic) every this long; 0 keeps them still", &c.MetricDrift),
		Bind("timeline_seconds", "", "seconds of per-second history kept in the statistics", &c.TimelineSeconds),
		Bind("call_duration", "call-duration", "how long calls stay active, e.g. uniform:30s..3m or exp:90s", &c.CallDuration),
		Bind("chat_duration", "", "how long chats stay active", &c.ChatDuration),
		Bind("task_duration", "", "how long tasks stay active", &c.TaskDuration),
		Bind("faults", "", "injected faults per operation", &c.Faults),
		Bind("contact_events_queue", "contact-events-queue", "publish voice calls' contact events (EventBridge envelope) to this SQS queue: URL or name (created if missing)", &c.ContactEventsQueue),
		Bind("contact_events_endpoint", "contact-events-endpoint", "SQS endpoint URL of --contact-events-queue (e.g. a moto_server)", &c.ContactEventsEndpoint),
		secret(Bind("admin_token", "admin-token", "bearer token for /_sim/ and /metrics (generated when --access-key is set)", &c.AdminToken)),
		secret(Bind("credentials", "access-key", "ACCESS_KEY=SECRET to verify SigV4 (repeatable); none: any credentials are accepted", &c.Credentials)),
	)
}

// RegisterSimFlags adds the flags of `tollgate sim` to fs, showing the
// defaults of DefaultSim.
func RegisterSimFlags(fs *pflag.FlagSet) {
	d := DefaultSim()
	SimTable(&d).RegisterFlags(fs)
}

// LoadSim is the simulator's pipeline: DefaultSim, then Parse (file,
// environment, flags: the same layering as serve's), then Validate
// (sim.Config.Options: every field checked, the quota and seed files read,
// errors naming the field). Paths in the file are relative to it; a
// --seed-file replaces the file's inline state.
func LoadSim(src Sources) (sim.Config, sim.Options, error) {
	c := DefaultSim()
	if src.File != "" {
		c.Dir = filepath.Dir(src.File)
	}
	if err := SimTable(&c).Parse(src); err != nil {
		return c, sim.Options{}, err
	}
	if src.Flags != nil && src.Flags.Changed("seed-file") {
		c.State = nil
	}
	o, err := c.Options()
	return c, o, err
}
