package redisx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// Defaults applied by Options when a field is zero.
const (
	DefaultKeyPrefix     = "tollgate"
	DefaultTimeout       = 50 * time.Millisecond
	DefaultHeartbeat     = time.Second
	DefaultLiveWindow    = 3 * time.Second
	DefaultProbeInterval = 200 * time.Millisecond
	DefaultLeaseTTL      = 50 * time.Millisecond
	DefaultLeaseMax      = 64
	DefaultLimitTTL      = 24 * time.Hour
)

// ErrInvalidOptions is matched (errors.Is) by every configuration error
// returned by New, NewCache and NewClient; the message names the field.
var ErrInvalidOptions = errors.New("redisx: invalid options")

// Options configures a Limiter or a Cache. Account and Region are required,
// and one of URL and Client; every other zero field means its default.
type Options struct {
	// URL locates Redis: redis://[user:password@]host:port[/db] or
	// rediss://… for TLS (ElastiCache in-transit encryption; AUTH token as
	// the password). go-redis query parameters (dial_timeout, pool_size, …)
	// are accepted. The password is never logged.
	URL string
	// TLSConfig, if set, is used for rediss:// connections instead of the
	// system roots (for a private CA or client certificates).
	TLSConfig *tls.Config
	// Cluster connects with a cluster client (ElastiCache cluster mode). All
	// keys of one account and Region share a hash tag, so every script runs
	// on one slot.
	Cluster bool
	// Client, if set, is used instead of dialing URL. It is not closed by
	// Close. Use it to share one connection pool between a Limiter and a
	// Cache (see NewClient).
	Client redis.UniversalClient

	// KeyPrefix starts every key; default "tollgate". Keys look like
	// tollgate:{123456789012:eu-west-2}:o:StartChatContact.
	KeyPrefix string
	// Account is the AWS account ID whose quotas are shared. Required.
	Account string
	// Region is the AWS Region, e.g. "eu-west-2". Required.
	Region string

	// Timeout bounds every Redis command (dial, read, write, pool wait);
	// default 50ms. A command that takes longer counts as Redis being
	// unavailable: the Limiter falls back to local buckets.
	Timeout time.Duration
	// PoolSize is the connection pool size; 0 means go-redis's default (10
	// per CPU) or the URL's pool_size.
	PoolSize int

	// Table supplies the limit of every operation not in Ops; nil means
	// quotas.Default(). Limits set with SetLimit (stored in Redis) take
	// precedence over both.
	Table *quotas.Table
	// Ops overrides the table for the listed operations. A zero Limit means
	// unlimited.
	Ops map[string]ratelimit.Limit
	// AccountLimit is the account-wide bucket every admission also draws
	// from. The zero Limit means unlimited.
	AccountLimit ratelimit.Limit
	// Aging is the starvation bound for this process's wait queue: a waiter
	// queued longer than Aging goes ahead of every priority class. Zero
	// means ratelimit.DefaultAging; negative disables aging.
	Aging time.Duration

	// WorkerID names this process in the heartbeat set; default
	// hostname-pid-random.
	WorkerID string
	// Heartbeat is how often the worker records itself; default 1s.
	Heartbeat time.Duration
	// LiveWindow: a worker seen within it counts as live; default 3s.
	LiveWindow time.Duration
	// ProbeInterval is how often Redis is probed while falling back;
	// default 200ms.
	ProbeInterval time.Duration
	// AssumedWorkers is the live-worker count used before the first
	// successful heartbeat (when Redis is down at start); default 1.
	AssumedWorkers int

	// Lease configures token leasing for busy workers.
	Lease LeaseOptions

	// LimitTTL is how long limits stored by SetLimit survive in Redis after
	// the last live worker; default 24h.
	LimitTTL time.Duration

	// Logger receives mode changes and errors; default slog.Default().
	Logger *slog.Logger
	// OnModeChange, if set, is called (on its own goroutine) after every
	// change between shared and fallback mode.
	OnModeChange func(Mode)
}

// LeaseOptions configures leasing: a busy worker takes a few tokens at once
// from the shared buckets and spends them locally, so most admissions need
// no round trip. Leased tokens expire after at most TTL (and never later
// than half a burst's worth of refill), which bounds how far the fleet can
// run ahead of the quota: by at most rate×TTL ≤ half a burst.
type LeaseOptions struct {
	// Disabled turns leasing off: every admission is a round trip.
	Disabled bool
	// TTL is the longest a leased token may be held; default 50ms.
	TTL time.Duration
	// Max is the most tokens leased beyond one request's cost; default 64.
	// A lease is also at most half the smaller burst.
	Max float64
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidOptions, field, fmt.Sprintf(format, args...))
}

// withDefaults returns o with defaults filled in, or an error naming the
// first invalid field.
func (o Options) withDefaults() (Options, error) {
	if o.Client == nil {
		if strings.TrimSpace(o.URL) == "" {
			return o, invalid("URL", "required (redis:// or rediss://) unless Client is set")
		}
		u, err := url.Parse(o.URL)
		if err != nil {
			return o, invalid("URL", "cannot parse %q", RedactURL(o.URL))
		}
		if u.Scheme != "redis" && u.Scheme != "rediss" {
			return o, invalid("URL", "scheme must be redis or rediss, got %q", RedactURL(o.URL))
		}
		if u.Host == "" {
			return o, invalid("URL", "missing host in %q", RedactURL(o.URL))
		}
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = DefaultKeyPrefix
	}
	if err := checkKeyPart("KeyPrefix", o.KeyPrefix); err != nil {
		return o, err
	}
	if o.Account == "" {
		return o, invalid("Account", "required (the AWS account ID)")
	}
	if err := checkKeyPart("Account", o.Account); err != nil {
		return o, err
	}
	if o.Region == "" {
		return o, invalid("Region", "required (e.g. eu-west-2)")
	}
	if err := checkKeyPart("Region", o.Region); err != nil {
		return o, err
	}
	var err error
	if o.Timeout, err = positive("Timeout", o.Timeout, DefaultTimeout); err != nil {
		return o, err
	}
	if o.PoolSize < 0 {
		return o, invalid("PoolSize", "must be >= 0, got %d", o.PoolSize)
	}
	if o.Heartbeat, err = positive("Heartbeat", o.Heartbeat, DefaultHeartbeat); err != nil {
		return o, err
	}
	if o.LiveWindow, err = positive("LiveWindow", o.LiveWindow, DefaultLiveWindow); err != nil {
		return o, err
	}
	if o.LiveWindow < o.Heartbeat {
		return o, invalid("LiveWindow", "must be at least Heartbeat (%v), got %v", o.Heartbeat, o.LiveWindow)
	}
	if o.ProbeInterval, err = positive("ProbeInterval", o.ProbeInterval, DefaultProbeInterval); err != nil {
		return o, err
	}
	if o.AssumedWorkers < 0 {
		return o, invalid("AssumedWorkers", "must be >= 0, got %d", o.AssumedWorkers)
	}
	if o.AssumedWorkers == 0 {
		o.AssumedWorkers = 1
	}
	if o.LimitTTL, err = positive("LimitTTL", o.LimitTTL, DefaultLimitTTL); err != nil {
		return o, err
	}
	if o.Lease.TTL, err = positive("Lease.TTL", o.Lease.TTL, DefaultLeaseTTL); err != nil {
		return o, err
	}
	if o.Lease.Max < 0 || math.IsNaN(o.Lease.Max) || math.IsInf(o.Lease.Max, 0) {
		return o, invalid("Lease.Max", "must be a finite number >= 0, got %v", o.Lease.Max)
	}
	if o.Lease.Max == 0 {
		o.Lease.Max = DefaultLeaseMax
	}
	for op, l := range o.Ops {
		if strings.TrimSpace(op) == "" {
			return o, invalid("Ops", "operation name must not be empty")
		}
		if err := checkLimit(fmt.Sprintf("Ops[%s]", op), l); err != nil {
			return o, err
		}
	}
	if err := checkLimit("AccountLimit", o.AccountLimit); err != nil {
		return o, err
	}
	if o.Aging == 0 {
		o.Aging = ratelimit.DefaultAging
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

func positive(field string, d, def time.Duration) (time.Duration, error) {
	if d < 0 {
		return d, invalid(field, "must be >= 0, got %v", d)
	}
	if d == 0 {
		return def, nil
	}
	return d, nil
}

func checkLimit(field string, l ratelimit.Limit) error {
	if l.Rate < 0 || math.IsNaN(l.Rate) {
		return invalid(field, "rate must be >= 0, got %v", l.Rate)
	}
	if l.Burst < 0 || math.IsNaN(l.Burst) {
		return invalid(field, "burst must be >= 0, got %v", l.Burst)
	}
	return nil
}

// checkKeyPart rejects characters that would break the key layout or the
// cluster hash tag.
func checkKeyPart(field, s string) error {
	if strings.ContainsAny(s, "{}: \t\r\n") {
		return invalid(field, "must not contain braces, colons or spaces, got %q", s)
	}
	return nil
}

// RedactURL returns u with every part that may hold a secret replaced by
// "xxxxx", for logs and error messages; it is the one redaction of a Redis
// URL, used by every message that shows one. It does not trust u to be
// well formed: whatever stands between the scheme and the last '@' is the
// user information (also in "redis//:pw@host", "redis:/:pw@h:1" or
// "user:pw@host"), of which only a plain user name after "scheme://" is
// kept; and every query
// value is hidden except the plain values of go-redis's connection options
// (db, dial_timeout, pool_size, …), so "host:1?password=pw" shows no
// password either. A fragment is hidden whole.
func RedactURL(u string) string {
	const mask = "xxxxx"
	var b strings.Builder
	// The scheme and the slashes after it, if u starts with one.
	i := 0
	for i < len(u) && (isAlpha(u[i]) || i > 0 && (isDigit(u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.')) {
		i++
	}
	if i > 0 && i < len(u) && u[i] == ':' {
		i++
		for i < len(u) && u[i] == '/' {
			i++
		}
	} else {
		i = 0
	}
	if !strings.HasSuffix(u[:i], "://") && strings.Contains(u, "@") {
		i = 0 // "user:pw@host": what looks like a scheme may be the user name
	}
	b.WriteString(u[:i])
	rest := u[i:]
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		user, _, hasPass := strings.Cut(rest[:at], ":")
		if hasPass && plainValue(user) && strings.HasSuffix(u[:i], "://") {
			b.WriteString(user + ":" + mask)
		} else {
			b.WriteString(mask)
		}
		rest = rest[at:]
		if strings.ContainsAny(u[i:i+at], "?#") {
			// The '@' may sit inside a query value or fragment
			// ("h?password=a@b"): hide up to the next parameter too.
			b.WriteString("@" + mask)
			j := strings.IndexAny(rest, "&;")
			if j < 0 {
				return b.String()
			}
			b.WriteByte('&')
			redactQuery(&b, rest[j+1:])
			return b.String()
		}
	}
	rest, _, hasFrag := strings.Cut(rest, "#")
	base, query, hasQuery := strings.Cut(rest, "?")
	b.WriteString(base)
	if hasQuery {
		b.WriteByte('?')
		redactQuery(&b, query)
	}
	if hasFrag {
		b.WriteString("#" + mask)
	}
	return b.String()
}

// redactQuery writes query with every value hidden but the plain values of
// plainOptions. After the first other parameter everything is hidden: an
// unescaped '&' in a password would otherwise show its end as a parameter.
func redactQuery(b *strings.Builder, query string) {
	const mask = "xxxxx"
	hide := false
	for n, part := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
		if n > 0 {
			b.WriteByte('&')
		}
		key, val, hasVal := strings.Cut(part, "=")
		switch {
		case !hide && plainOptions[key] && (!hasVal || plainValue(val)):
			b.WriteString(part)
		case !hide && (key == "password" || key == "username" || key == "user"):
			b.WriteString(key + "=" + mask)
			hide = true
		default:
			b.WriteString(mask)
			hide = true
		}
	}
}

// parseProblem is the kind of a URL parser's error without the details it
// quotes from the URL ("redis: invalid database number: \"…\"" becomes
// "redis: invalid database number"): they may be pieces of a password.
func parseProblem(err error) string {
	msg := err.Error()
	if q := strings.IndexByte(msg, '"'); q >= 0 {
		msg = msg[:q]
	}
	if p := strings.Index(msg, ": "); p >= 0 {
		if p2 := strings.Index(msg[p+2:], ":"); p2 >= 0 {
			msg = msg[:p+2+p2]
		}
	}
	return strings.TrimRight(msg, ": ")
}

// plainOptions are go-redis URL options whose values hold no secret.
var plainOptions = map[string]bool{
	"db": true, "protocol": true, "client_name": true, "max_retries": true, "min_retry_backoff": true,
	"max_retry_backoff": true, "dial_timeout": true, "read_timeout": true, "write_timeout": true,
	"pool_fifo": true, "pool_size": true, "pool_timeout": true, "min_idle_conns": true, "max_idle_conns": true,
	"max_active_conns": true, "conn_max_idle_time": true, "conn_max_lifetime": true, "idle_timeout": true,
	"max_conn_age": true, "skip_verify": true, "addr": false,
}

// plainValue: letters, digits and . _ - only (a user name, a number, a
// duration).
func plainValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// NewClient dials Redis as o describes (URL, TLSConfig, Cluster, Timeout,
// PoolSize), with the short timeouts and no retries the Limiter relies on.
// The caller closes it. Only the connection fields of o are used and
// validated.
func NewClient(o Options) (redis.UniversalClient, error) {
	if strings.TrimSpace(o.URL) == "" {
		return nil, invalid("URL", "required (redis:// or rediss://)")
	}
	tmp := o
	tmp.Client = nil
	if tmp.Account == "" {
		tmp.Account = "x" // connection-only validation
	}
	if tmp.Region == "" {
		tmp.Region = "x"
	}
	n, err := tmp.withDefaults()
	if err != nil {
		return nil, err
	}
	return dial(n)
}

// dial builds a client from options that went through withDefaults.
func dial(o Options) (redis.UniversalClient, error) {
	if o.Cluster {
		co, err := redis.ParseClusterURL(o.URL)
		if err != nil {
			return nil, invalid("URL", "%s: %s", RedactURL(o.URL), parseProblem(err))
		}
		if o.TLSConfig != nil && strings.HasPrefix(o.URL, "rediss:") {
			co.TLSConfig = o.TLSConfig.Clone()
		}
		co.DialTimeout, co.ReadTimeout, co.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
		co.PoolTimeout = o.Timeout
		co.ContextTimeoutEnabled = true
		co.MaxRetries = -1
		co.DialerRetries = 1
		co.MaxRedirects = 1
		co.DisableIdentity = true
		if o.PoolSize > 0 {
			co.PoolSize = o.PoolSize
		}
		return redis.NewClusterClient(co), nil
	}
	ro, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, invalid("URL", "%s: %s", RedactURL(o.URL), parseProblem(err))
	}
	if o.TLSConfig != nil && strings.HasPrefix(o.URL, "rediss:") {
		ro.TLSConfig = o.TLSConfig.Clone()
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
	ro.PoolTimeout = o.Timeout
	ro.ContextTimeoutEnabled = true
	ro.MaxRetries = -1
	ro.DialerRetries = 1
	ro.DisableIdentity = true
	ro.Protocol = 2 // RESP2: no HELLO round trip, works with every server
	if o.PoolSize > 0 {
		ro.PoolSize = o.PoolSize
	}
	return redis.NewClient(ro), nil
}

// LogRedisClient sends go-redis's own log lines (connection pool dial
// failures and the like, which it prints to stderr by default) to logger at
// Debug level. It changes a process-wide setting of go-redis; call it once
// from main if wanted.
func LogRedisClient(logger *slog.Logger) {
	redis.SetLogger(redisLogger{logger})
}

type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}
