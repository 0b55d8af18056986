package config

import (
	"encoding"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Field is one setting: its key (the YAML path), its environment variable
// and its flag. The same field table drives every command's configuration
// (serve's Config, sim's, bench's): see Table.
//
// A field is bound to a variable of one of these types: string, bool, int,
// int64, float64, time.Duration or an encoding.TextUnmarshaler (one value
// in the file, the environment or a flag); []string (a YAML sequence, a
// repeatable flag that replaces the file's list, a comma-separated
// variable); map[string]string (a YAML mapping, a repeatable KEY=VALUE flag
// that adds to the file's entries, comma-separated KEY=VALUE pairs in the
// environment); a Setter (a YAML value decoded into it, a repeatable flag
// and comma-separated variable whose occurrences it parses); or any other
// type YAML decodes (file only: no flag, no variable).
type Field struct {
	Key    string // YAML path, e.g. "dispatch.call_timeout"
	Flag   string // flag name without dashes; "" when there is none
	Usage  string
	Secret bool // never printed
	ptr    any  // the bound variable (see above)
	prefix string
}

// Bind returns a field bound to ptr (see Field for the types).
func Bind(key, flag, usage string, ptr any) Field {
	return Field{Key: key, Flag: flag, Usage: usage, ptr: ptr}
}

// Setter is a setting of a type of its own: Set parses one occurrence of
// its flag or environment variable (e.g. OP=RATE:BURST) into it.
type Setter interface {
	Set(string) error
}

// DefaultEnvPrefix prefixes the environment variables of serve's settings.
const DefaultEnvPrefix = "TOLLGATE_"

// Env is the field's environment variable: its table's prefix (default
// TOLLGATE_) + the key upper-cased, with '.' as '_'; "" for a file-only
// field.
func (f Field) Env() string {
	if f.fileOnly() {
		return ""
	}
	p := f.prefix
	if p == "" {
		p = DefaultEnvPrefix
	}
	return p + strings.ToUpper(strings.ReplaceAll(f.Key, ".", "_"))
}

// Table is one command's field table: its fields, bound to one value of
// its settings, and the prefix of their environment variables.
type Table struct {
	EnvPrefix string
	Fields    []Field
}

// NewTable returns the table of fields with environment variables named
// envPrefix + KEY.
func NewTable(envPrefix string, fields ...Field) Table {
	for i := range fields {
		fields[i].prefix = envPrefix
	}
	return Table{EnvPrefix: envPrefix, Fields: fields}
}

// Fields returns the settings of c, bound to c's fields.
func (c *Config) Fields() []Field {
	return append([]Field{
		{Key: "listen", Flag: "listen", Usage: "address of the HTTP API (host:port; 127.0.0.1 keeps it local)", ptr: &c.Listen},
		{Key: "tls_cert", Flag: "tls-cert", Usage: "PEM certificate (chain) file: serve HTTPS (with --tls-key)", ptr: &c.TLSCert},
		{Key: "tls_key", Flag: "tls-key", Usage: "PEM private key file of --tls-cert", ptr: &c.TLSKey},
		{Key: "insecure_listen", Flag: "insecure-listen", Usage: "allow a non-loopback --listen without TLS (the token crosses the network in cleartext)", ptr: &c.InsecureListen},
		{Key: "data_dir", Flag: "data-dir", Usage: "directory of the embedded queue and the generated token", ptr: &c.DataDir},
		{Key: "token", Usage: "bearer token of the API (default: generated in the data directory)", Secret: true, ptr: &c.Token},
		{Key: "max_body_bytes", Flag: "max-body-bytes", Usage: "largest request body accepted (bytes)", ptr: &c.MaxBodyBytes},
		{Key: "log_level", Flag: "log-level", Usage: "debug, info, warn or error", ptr: &c.LogLevel},
		{Key: "log_format", Flag: "log-format", Usage: "text or json", ptr: &c.LogFormat},

		{Key: "aws.region", Flag: "region", Usage: "AWS Region (default: the SDK's chain, e.g. AWS_REGION)", ptr: &c.AWS.Region},
		{Key: "aws.profile", Flag: "profile", Usage: "AWS shared-config profile", ptr: &c.AWS.Profile},
		{Key: "aws.endpoint", Flag: "endpoint", Usage: "Connect endpoint URL, e.g. a tollgate sim (default: the Region's)", ptr: &c.AWS.Endpoint},
		{Key: "aws.campaigns_endpoint", Flag: "campaigns-endpoint", Usage: "Outbound Campaigns endpoint URL (default: --endpoint, else the Region's)", ptr: &c.AWS.CampaignsEndpoint},

		{Key: "queue.backend", Flag: "queue", Usage: "queue backend: embedded (in --data-dir) or sqs", ptr: &c.Queue.Backend},
		{Key: "queue.max_receives", Flag: "max-receives", Usage: "receives without success before the dead-letter queue", ptr: &c.Queue.MaxReceives},
		{Key: "queue.max_free_requeues", Flag: "max-free-requeues", Usage: "requeues for full concurrency quotas not counted as failed receives", ptr: &c.Queue.MaxFreeRequeues},
		{Key: "queue.sqs.queue_url", Flag: "sqs-queue-url", Usage: "SQS work queue: a name (created if missing) or, with --sqs-dlq-url, the URL of an existing queue (nothing is created)", ptr: &c.Queue.SQS.QueueURL},
		{Key: "queue.sqs.dlq_url", Flag: "sqs-dlq-url", Usage: "SQS dead-letter queue: a name (default <queue>-dlq) or the URL of an existing queue", ptr: &c.Queue.SQS.DLQURL},
		{Key: "queue.sqs.endpoint", Flag: "sqs-endpoint", Usage: "SQS endpoint URL (e.g. a local emulator)", ptr: &c.Queue.SQS.Endpoint},
		{Key: "queue.sqs.wait_time", Flag: "sqs-wait-time", Usage: "SQS long-poll wait", ptr: &c.Queue.SQS.WaitTime},

		{Key: "dispatch.concurrency", Flag: "concurrency", Usage: "calls in flight at most", ptr: &c.Dispatch.Concurrency},
		{Key: "dispatch.call_timeout", Flag: "call-timeout", Usage: "budget of one governed call: admission, attempts and backoff", ptr: &c.Dispatch.CallTimeout},
		{Key: "dispatch.visibility", Flag: "visibility", Usage: "lease visibility timeout (default 6 × call timeout)", ptr: &c.Dispatch.Visibility},
		{Key: "dispatch.max_batch", Flag: "max-batch", Usage: "dial requests per PutDialRequestBatch (1-25)", ptr: &c.Dispatch.MaxBatch},
		{Key: "dispatch.max_attempts", Flag: "max-attempts", Usage: "attempts per call, the first included", ptr: &c.Dispatch.MaxAttempts},
		{Key: "dispatch.shutdown_grace", Flag: "shutdown-grace", Usage: "time calls in flight may finish at shutdown", ptr: &c.Dispatch.ShutdownGrace},

		{Key: "limits.rate_scale", Flag: "rate-scale", Usage: "multiply every published rate and burst (match the simulator's --rate-scale)", ptr: &c.Limits.RateScale},
		{Key: "limits.quota_file", Flag: "quota-file", Usage: "quota overrides (quotafile format), e.g. an increase AWS granted", ptr: &c.Limits.QuotaFile},
		{Key: "limits.account_rate", Flag: "account-rate", Usage: "account-wide cap on all operations together (requests/s; 0 = none)", ptr: &c.Limits.AccountRate},
		{Key: "limits.account_burst", Flag: "account-burst", Usage: "burst of the account-wide cap", ptr: &c.Limits.AccountBurst},
		{Key: "limits.burst_headroom", Flag: "burst-headroom", Usage: "tokens of each burst left unused to absorb network jitter", ptr: &c.Limits.BurstHeadroom},
		{Key: "limits.account", Flag: "account", Usage: "AWS account id the quota file's scoped overrides are matched against (required with --redis-url)", ptr: &c.Limits.Account},
		{Key: "limits.adaptive", Flag: "adaptive", Usage: "learn each operation's available rate from throttles (shared by the fleet with --redis-url)", ptr: &c.Limits.Adaptive},
		{Key: "poll.share", Flag: "poll-share", Usage: "share of each operation's quota the poll queries may use together (0-1)", ptr: &c.Poll.Share},
		{Key: "poll.instance", Flag: "poll-instance", Usage: "poll this instance's queues (with --poll-queues): the \"queues\" metrics query", ptr: &c.Poll.Instance},
		{Key: "poll.queues", Flag: "poll-queues", Usage: "queue ids to poll, comma-separated (with --poll-instance)", ptr: &c.Poll.Queues},
		{Key: "poll.interval", Flag: "poll-interval", Usage: "interval of the \"queues\" query", ptr: &c.Poll.Interval},
		{Key: "poll.queries", Usage: "named metric queries (file only): name, op, interval, input", ptr: &c.Poll.Queries},
		{Key: "limits.redis_url", Flag: "redis-url", Usage: "share the buckets through Redis: redis://[user:pass@]host:port[/db] or rediss://", Secret: true, ptr: &c.Limits.RedisURL},
		{Key: "limits.redis_timeout", Flag: "redis-timeout", Usage: "bound on every Redis command before falling back to local buckets (0 = 50ms)", ptr: &c.Limits.RedisTimeout},
		{Key: "gateway_url", Flag: "gateway-url", Usage: "show this tollgate gateway's state on the dashboard (it must accept serve's token: run it with the same --data-dir or TOLLGATE_TOKEN)", ptr: &c.GatewayURL},
		{Key: "pools", Usage: "quota pools (file only): several accounts sharing the queue, each with its credentials, quotas and IDs", ptr: &c.Pools},
		{Key: "limits.quota_sync", Flag: "quota-sync", Usage: "re-read applied quotas from Service Quotas on this interval and apply them (e.g. 5m; 0 = off)", ptr: &c.Limits.QuotaSync},
	}, append(c.staggerFields(), c.voiceFields()...)...)
}

// table is c's field table.
func (c *Config) table() Table { return NewTable(DefaultEnvPrefix, c.Fields()...) }

// kind of a field's variable, for the sources that give text.
type kind int

const (
	kindScalar   kind = iota // one value
	kindList                 // []string
	kindMap                  // map[string]string
	kindSetter               // repeated occurrences parsed by Set
	kindFileOnly             // decoded from YAML only
)

func (f Field) kind() kind {
	switch f.ptr.(type) {
	case *string, *bool, *int, *int64, *float64, *time.Duration:
		return kindScalar
	case *[]string:
		return kindList
	case *map[string]string:
		return kindMap
	}
	if _, ok := f.ptr.(Setter); ok {
		return kindSetter
	}
	if _, ok := f.ptr.(encoding.TextUnmarshaler); ok {
		return kindScalar
	}
	return kindFileOnly
}

func (f Field) fileOnly() bool { return f.kind() == kindFileOnly }

// setAll applies the occurrences vals of a flag or variable: a list is
// replaced, a map gains KEY=VALUE entries, a Setter parses each; a scalar
// takes the last.
func (f Field) setAll(vals []string) error {
	switch p := f.ptr.(type) {
	case *[]string:
		*p = append([]string(nil), vals...)
		return nil
	case *map[string]string:
		for _, kv := range vals {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" || v == "" {
				if f.Secret {
					return fmt.Errorf("want KEY=VALUE (the value given is not shown)")
				}
				return fmt.Errorf("want KEY=VALUE, got %q", kv)
			}
			if *p == nil {
				*p = map[string]string{}
			}
			(*p)[k] = v
		}
		return nil
	}
	if s, ok := f.ptr.(Setter); ok && f.kind() == kindSetter {
		for _, v := range vals {
			if err := s.Set(v); err != nil {
				return err
			}
		}
		return nil
	}
	if len(vals) == 0 {
		return nil
	}
	return f.set(vals[len(vals)-1])
}

// set parses s into a scalar field.
func (f Field) set(s string) error {
	if u, ok := f.ptr.(encoding.TextUnmarshaler); ok && f.kind() == kindScalar {
		if _, builtin := f.ptr.(*time.Duration); !builtin {
			return u.UnmarshalText([]byte(strings.TrimSpace(s)))
		}
	}
	switch p := f.ptr.(type) {
	case *string:
		*p = s
	case *bool:
		v, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", s)
		}
		*p = v
	case *int:
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("must be an integer, got %q", s)
		}
		*p = v
	case *int64:
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("must be an integer, got %q", s)
		}
		*p = v
	case *float64:
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("must be a number, got %q", s)
		}
		*p = v
	case *time.Duration:
		v, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("must be a duration such as 30s or 1m30s, got %q", s)
		}
		*p = v
	default:
		return fmt.Errorf("unsupported type %T", p)
	}
	return nil
}

// RegisterFlags adds serve's flags to fs, showing the defaults of Default.
func RegisterFlags(fs *pflag.FlagSet) {
	d := Default()
	d.table().RegisterFlags(fs)
}

// RegisterFlags adds a flag for every field that has one to fs, showing the
// values t is bound to as the defaults.
func (t Table) RegisterFlags(fs *pflag.FlagSet) {
	for _, f := range t.Fields {
		if f.Flag == "" {
			continue
		}
		usage := f.Usage
		if env := f.Env(); env != "" {
			usage += " [" + env + "]"
		}
		switch p := f.ptr.(type) {
		case *string:
			fs.String(f.Flag, *p, usage)
		case *bool:
			fs.Bool(f.Flag, *p, usage)
		case *int:
			fs.Int(f.Flag, *p, usage)
		case *int64:
			fs.Int64(f.Flag, *p, usage)
		case *float64:
			fs.Float64(f.Flag, *p, usage)
		case *time.Duration:
			fs.Duration(f.Flag, *p, usage)
		case *[]string:
			fs.StringArray(f.Flag, nil, usage)
		default:
			switch f.kind() {
			case kindMap, kindSetter:
				fs.StringArray(f.Flag, nil, usage)
			case kindScalar:
				fs.String(f.Flag, "", usage)
			}
		}
	}
}
