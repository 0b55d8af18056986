package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/quotas/quotafile"
)

// maxConfigSize bounds configuration and seed files.
const maxConfigSize = 8 << 20

// Config is the file form of the simulator's configuration (YAML, or JSON,
// which YAML reads too). Every field is optional; see Options for the
// defaults. `tollgate sim` fills it through internal/config's pipeline (the
// same field table, file, environment and flags as serve's); Options is its
// Validate step.
//
//	addr: 127.0.0.1:8999
//	rate_scale: 10
//	seed: 42
//	retry_after: true
//	call_limit: reorder              # or: error
//	quota_file: quotas.yaml          # the quotafile format the library reads
//	quotas:                          # per-operation overrides
//	  DescribeUser: {rate: 1, burst: 2, code: ThrottlingException}
//	resources:
//	  concurrent-active-calls: 20
//	account_rate: 50                 # optional account-wide ceiling
//	faults:
//	  DescribeUser: {latency: "uniform:5ms..30ms", error_rate: 0.01}
//	credentials: {AKIDEXAMPLE: secret}
//	seed_file: state.yaml            # or an inline "state:" section (see Seed)
//	accounts: 3                      # serve 3 accounts (NewMulti); 1..64, default 1
type Config struct {
	Addr                       string        `yaml:"addr"`
	AccountID                  string        `yaml:"account_id"`
	Accounts                   int           `yaml:"accounts"`
	Region                     string        `yaml:"region"`
	RateScale                  float64       `yaml:"rate_scale"`
	Seed                       int64         `yaml:"seed"`
	AccountRate                float64       `yaml:"account_rate"`
	AccountBurst               int           `yaml:"account_burst"`
	RetryAfter                 bool          `yaml:"retry_after"`
	CallLimit                  string        `yaml:"call_limit"`
	RefusedDestinationPrefixes []string      `yaml:"refused_destination_prefixes"`
	DialRate                   float64       `yaml:"dial_rate"`
	DialBurst                  int           `yaml:"dial_burst"`
	MaxBodyBytes               int64         `yaml:"max_body_bytes"`
	TimelineSeconds            int           `yaml:"timeline_seconds"`
	BodyTimeout                time.Duration `yaml:"body_timeout"`
	MetricDrift                time.Duration `yaml:"metric_drift"`
	// ContactEventsQueue, when set, is the SQS queue (URL, or a name that
	// is created when missing) the contact events of voice calls are
	// published to, at ContactEventsEndpoint (e.g. a moto_server; empty:
	// the SDK's resolution). `tollgate sim` builds the publisher
	// (contactevents.Publisher); Options leaves Options.ContactEvents to it.
	ContactEventsQueue    string            `yaml:"contact_events_queue"`
	ContactEventsEndpoint string            `yaml:"contact_events_endpoint"`
	AdminToken            string            `yaml:"admin_token"`
	Credentials           map[string]string `yaml:"credentials"`
	CallDuration          Distribution      `yaml:"call_duration"`
	ChatDuration          Distribution      `yaml:"chat_duration"`
	TaskDuration          Distribution      `yaml:"task_duration"`
	QuotaFile             string            `yaml:"quota_file"`
	Quotas                QuotaOverrides    `yaml:"quotas"`
	Resources             map[string]int    `yaml:"resources"`
	Faults                map[string]Fault  `yaml:"faults"`
	SeedFile              string            `yaml:"seed_file"`
	State                 *Seed             `yaml:"state"`

	// Dir is the directory quota_file and seed_file are relative to (the
	// configuration file's); "" means the working directory.
	Dir string `yaml:"-"`
}

// QuotaConfig overrides one operation's bucket in a Config.
type QuotaConfig struct {
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
	Code  string  `yaml:"code"`
}

// QuotaOverrides maps operation names to bucket overrides.
type QuotaOverrides map[string]QuotaConfig

// Set adds one override in the flag form OP=RATE:BURST[:CODE], e.g.
// ListQueues=1:1 or DescribeUser=2:5:TooManyRequestsException.
func (q *QuotaOverrides) Set(s string) error {
	op, spec, ok := strings.Cut(s, "=")
	if !ok || op == "" {
		return fmt.Errorf("want OP=RATE:BURST[:CODE], got %q", s)
	}
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return fmt.Errorf("%s: want RATE:BURST[:CODE], got %q", op, spec)
	}
	rate, err := strconv.ParseFloat(parts[0], 64)
	if err != nil || !(rate > 0) {
		return fmt.Errorf("%s: rate must be a number > 0, got %q", op, parts[0])
	}
	burst, err := strconv.Atoi(parts[1])
	if err != nil || burst < 1 {
		return fmt.Errorf("%s: burst must be an integer >= 1, got %q", op, parts[1])
	}
	qc := QuotaConfig{Rate: rate, Burst: burst}
	if len(parts) == 3 {
		qc.Code = parts[2]
	}
	if *q == nil {
		*q = QuotaOverrides{}
	}
	(*q)[op] = qc
	return nil
}

// LoadSeed reads a YAML or JSON state file (the Seed format).
func LoadSeed(path string) (*Seed, error) {
	var sd Seed
	if err := decodeFile(path, &sd); err != nil {
		return nil, err
	}
	if err := sd.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &sd, nil
}

func decodeFile(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return fmt.Errorf("%s: larger than %d bytes", path, maxConfigSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func (c *Config) rel(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Dir == "" {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// Options validates c and converts it to Options; errors name the field.
func (c *Config) Options() (Options, error) {
	o := Options{
		AccountID: c.AccountID, Region: c.Region, RateScale: c.RateScale, Seed: c.Seed,
		AccountRate: c.AccountRate, AccountBurst: c.AccountBurst, RetryAfter: c.RetryAfter,
		CallLimit: c.CallLimit, RefusedDestinationPrefixes: c.RefusedDestinationPrefixes,
		DialRate: c.DialRate, DialBurst: c.DialBurst, MaxBodyBytes: c.MaxBodyBytes, BodyTimeout: c.BodyTimeout,
		TimelineSeconds: c.TimelineSeconds, AdminToken: c.AdminToken, Credentials: c.Credentials,
		CallDuration: c.CallDuration, ChatDuration: c.ChatDuration, TaskDuration: c.TaskDuration,
		Faults: c.Faults, State: c.State, MetricDrift: c.MetricDrift, Accounts: c.Accounts,
	}
	if c.Addr != "" {
		if _, _, err := splitHostPort(c.Addr); err != nil {
			return o, fmt.Errorf("addr: %w", err)
		}
	}
	for k, v := range c.Credentials {
		if k == "" || v == "" {
			return o, fmt.Errorf("credentials: access key and secret must not be empty")
		}
	}
	account, region := c.AccountID, c.Region
	if account == "" {
		account = DefaultAccountID
	}
	if region == "" {
		region = DefaultRegion
	}
	tbl := quotas.Default()
	if c.QuotaFile != "" {
		ovs, err := quotafile.Load(c.rel(c.QuotaFile))
		if err != nil {
			return o, fmt.Errorf("quota_file: %w", err)
		}
		if err := tbl.Apply(ovs, account, region); err != nil {
			return o, fmt.Errorf("quota_file: %w", err)
		}
	}
	for _, op := range sortedKeys(c.Quotas) {
		q := c.Quotas[op]
		if _, ok := opByName[op]; !ok {
			return o, fmt.Errorf("quotas.%s: unknown operation (known: %s)", op, strings.Join(Operations(), ", "))
		}
		a, _ := tbl.API(op)
		if q.Rate != 0 {
			a.Rate = q.Rate
		}
		if q.Burst != 0 {
			a.Burst = q.Burst
		}
		if err := a.Validate(); err != nil {
			return o, fmt.Errorf("quotas.%s: %w", op, err)
		}
		_ = tbl.SetAPI(a)
		if q.Code != "" {
			if !validThrottleCode(q.Code) {
				return o, fmt.Errorf("quotas.%s.code: unsupported throttle code %q", op, q.Code)
			}
			if o.ThrottleCodes == nil {
				o.ThrottleCodes = map[string]string{}
			}
			o.ThrottleCodes[op] = q.Code
		}
	}
	for _, name := range sortedKeys(c.Resources) {
		r, ok := tbl.Resource(name)
		if !ok {
			names := []string{}
			for _, r := range tbl.Resources() {
				names = append(names, r.Name)
			}
			sort.Strings(names)
			return o, fmt.Errorf("resources.%s: unknown resource (known: %s)", name, strings.Join(names, ", "))
		}
		r.Default = c.Resources[name]
		if err := tbl.SetResource(r); err != nil {
			return o, fmt.Errorf("resources.%s: %w", name, err)
		}
	}
	o.Quotas = tbl
	if c.SeedFile != "" {
		if c.State != nil {
			return o, fmt.Errorf("seed_file: set either seed_file or state, not both")
		}
		sd, err := LoadSeed(c.rel(c.SeedFile))
		if err != nil {
			return o, fmt.Errorf("seed_file: %w", err)
		}
		o.State = sd
	}
	if o.State != nil {
		if err := o.State.validate(); err != nil {
			return o, err
		}
	}
	if _, err := o.withDefaults(); err != nil {
		return o, err
	}
	return o, nil
}

func splitHostPort(addr string) (string, int, error) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("want host:port, got %q", addr)
	}
	p, err := strconv.Atoi(addr[i+1:])
	if err != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("port must be 0..65535, got %q", addr[i+1:])
	}
	return addr[:i], p, nil
}
