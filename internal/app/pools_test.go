package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

// stsServer is the multi-account simulator (accounts 100000000001 and
// 100000000002), which answers STS AssumeRole as AWS does (query protocol,
// XML) for roles of its accounts and 403 AccessDenied for any other; the
// AssumeRole forms it receives are recorded.
type stsServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []map[string]string
}

func newSTS(t *testing.T) *stsServer {
	m, err := sim.NewMulti(sim.Options{Accounts: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	s := &stsServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") == "AssumeRole" {
			s.mu.Lock()
			s.requests = append(s.requests, map[string]string{
				"RoleArn": form.Get("RoleArn"), "RoleSessionName": form.Get("RoleSessionName"),
				"ExternalId": form.Get("ExternalId"), "Authorization": r.Header.Get("Authorization"),
			})
			s.mu.Unlock()
		}
		m.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// homeAWS signs with the simulator's account 1 key: the "home" account
// whose credentials call STS.
func homeAWS() *aws.Config {
	key, secret := sim.AccountKey(1)
	return &aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")}
}

// poolsConfig is a valid two-pool configuration: east by access key (the
// secret in EAST_SECRET), west by a role assumed through sts.
func poolsConfig(t *testing.T, stsURL string) config.Config {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.AWS.Endpoint = "http://127.0.0.1:1"
	ids := func(n string) config.PoolIDs {
		return config.PoolIDs{ContactFlows: map[string]string{"outbound-sales": "flow-" + n}, Queues: map[string]string{"sales": "queue-" + n}}
	}
	cfg.Pools = config.Pools{
		{Name: "east", Account: "100000000001", Region: "us-east-1", InstanceID: "instance-east", Weight: 1,
			Credentials: config.PoolCredentials{AccessKeyID: "AKIDEAST00000001", SecretEnv: "TOLLGATE_TEST_EAST_SECRET"}, IDs: ids("east")},
		{Name: "west", Account: "100000000002", Region: "us-west-2", InstanceID: "instance-west", Weight: 2,
			Credentials: config.PoolCredentials{RoleARN: "arn:aws:iam::100000000002:role/tollgate", ExternalID: "xid-west", STSEndpoint: stsURL}, IDs: ids("west")},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestBuildPools: each pool gets its own credentials (the access key with
// the secret from the environment; the role assumed at start through the
// configured STS endpoint with the external id), Region, quota table (the
// pool's quota file over limits.quota_file) and admission.
func TestBuildPools(t *testing.T) {
	sts := newSTS(t)
	cfg := poolsConfig(t, sts.URL)
	t.Setenv("TOLLGATE_TEST_EAST_SECRET", "east-secret-value")
	qf := filepath.Join(t.TempDir(), "west-quotas.yaml")
	if err := os.WriteFile(qf, []byte("overrides:\n  - {op: StartOutboundVoiceContact, rate: 7, burst: 11}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Pools[1].QuotaFile = qf
	ps, err := app.BuildPools(context.Background(), cfg, homeAWS(), os.LookupEnv, nil, nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("%d pools", len(ps))
	}
	east, err := ps[0].AWS.Credentials.Retrieve(context.Background())
	if err != nil || east.AccessKeyID != "AKIDEAST00000001" || east.SecretAccessKey != "east-secret-value" {
		t.Errorf("east credentials %q, %v", east.AccessKeyID, err)
	}
	west, err := ps[1].AWS.Credentials.Retrieve(context.Background())
	if err != nil || !strings.HasPrefix(west.AccessKeyID, "ASIA") || west.SessionToken == "" || !west.CanExpire {
		t.Errorf("west credentials %q, %v; want the assumed role's temporary ones", west.AccessKeyID, err)
	}
	sts.mu.Lock()
	if len(sts.requests) != 1 {
		t.Errorf("STS asked %d times at start, want once", len(sts.requests))
	} else if r := sts.requests[0]; r["ExternalId"] != "xid-west" || r["RoleSessionName"] != "tollgate-west" || !strings.Contains(r["Authorization"], "AKIDSIMACCOUNT000001") {
		t.Errorf("AssumeRole request %v", r)
	}
	sts.mu.Unlock()
	if ps[0].AWS.Region != "us-east-1" || ps[1].AWS.Region != "us-west-2" || ps[1].Endpoint != "http://127.0.0.1:1" {
		t.Errorf("regions %s %s, endpoint %s", ps[0].AWS.Region, ps[1].AWS.Region, ps[1].Endpoint)
	}
	if a, _ := ps[1].Quotas.API("StartOutboundVoiceContact"); a.Rate != 7 || a.Burst != 11 {
		t.Errorf("west quota file not applied: %+v", a)
	}
	if a, _ := ps[0].Quotas.API("StartOutboundVoiceContact"); a.Rate == 7 {
		t.Errorf("west's quota file applied to east: %+v", a)
	}
	if ps[0].Admission == ps[1].Admission || ps[0].Governor == ps[1].Governor || ps[0].Admission.Buckets == ps[1].Admission.Buckets {
		t.Error("pools share an admission")
	}
	if ps[0].CallBudget == nil || ps[0].CallBudget == ps[1].CallBudget {
		t.Error("each pool needs its own calls-in-progress budget")
	}
}

// TestPoolsRefusedAtStart: credentials that cannot work fail the start,
// naming the pool and the field — and never showing a secret.
func TestPoolsRefusedAtStart(t *testing.T) {
	sts := newSTS(t)
	type step struct {
		name string
		edit func(*config.Config)
		env  string // EAST's secret; "" unset
		want []string
	}
	for i, s := range []step{
		{"secret variable unset", nil, "", []string{"pools[0] (east).credentials.secret_env", "TOLLGATE_TEST_EAST_SECRET", "not set"}},
		{"unassumable role", func(c *config.Config) {
			c.Pools[1].Account = "333333333333" // not one of the simulator's accounts
			c.Pools[1].Credentials.RoleARN = "arn:aws:iam::333333333333:role/tollgate"
		}, "east-secret-value", []string{"pools[1] (west).credentials.role_arn", "AccessDenied", "arn:aws:iam::333333333333:role/tollgate"}},
		{"STS unreachable", func(c *config.Config) { c.Pools[1].Credentials.STSEndpoint = "http://127.0.0.1:1" },
			"east-secret-value", []string{"pools[1] (west).credentials.role_arn"}},
	} {
		cfg := poolsConfig(t, sts.URL)
		if s.edit != nil {
			s.edit(&cfg)
		}
		if s.env != "" {
			t.Setenv("TOLLGATE_TEST_EAST_SECRET", s.env)
		} else {
			os.Unsetenv("TOLLGATE_TEST_EAST_SECRET")
		}
		var logs bytes.Buffer
		_, err := app.New(context.Background(), cfg, app.Options{AWS: homeAWS(), Queue: queue.NewMemory(queue.MemoryOptions{}),
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err == nil {
			t.Errorf("step %d %s: started", i, s.name)
			continue
		}
		t.Logf("step %d %s: %v", i, s.name, err)
		for _, w := range s.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("step %d %s: got %q want it to mention %q", i, s.name, err, w)
			}
		}
		if out := err.Error() + logs.String(); strings.Contains(out, "east-secret-value") || strings.Contains(out, "xid-west") {
			t.Errorf("step %d %s: a secret is shown:\n%s", i, s.name, out)
		}
	}
}

// TestPoolsNeverShowSecrets: a successful start logs each pool's account,
// Region, instance and kind of credentials, never the secret or the
// external id.
func TestPoolsNeverShowSecrets(t *testing.T) {
	sts := newSTS(t)
	cfg := poolsConfig(t, sts.URL)
	t.Setenv("TOLLGATE_TEST_EAST_SECRET", "east-secret-value")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ps, err := app.BuildPools(context.Background(), cfg, homeAWS(), os.LookupEnv, nil, nil, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	west, err := ps[1].AWS.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if strings.Contains(out, west.SecretAccessKey) || strings.Contains(out, west.SessionToken) {
		t.Errorf("the assumed role's secret or token logged:\n%s", out)
	}
	for _, leak := range []string{"east-secret-value", "xid-west", "sim-secret-1"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q logged:\n%s", leak, out)
		}
	}
	if !strings.Contains(out, "pool=west") || !strings.Contains(out, "credentials=role") {
		t.Errorf("log %s", out)
	}
	_ = ps
}

// TestPoolBucketsSaved: with pools, each pool's bucket levels are saved in
// a file of its own (buckets.<pool>.json) and restored into that pool's
// buckets only.
func TestPoolBucketsSaved(t *testing.T) {
	sts := newSTS(t)
	cfg := poolsConfig(t, sts.URL)
	t.Setenv("TOLLGATE_TEST_EAST_SECRET", "east-secret-value")
	log := slog.New(slog.DiscardHandler)
	ps, err := app.BuildPools(context.Background(), cfg, homeAWS(), os.LookupEnv, nil, nil, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	const op = "StartOutboundVoiceContact"
	now := time.Now()
	burst := ps[1].Admission.Buckets.Limit(op).Burst
	for range int(burst) {
		_, _ = ps[1].Admission.Buckets.TryAt(now, ratelimit.Request{Op: op, Cost: 1})
	}
	a := &app.App{Config: cfg, Log: log, Pools: ps, Admission: ps[0].Admission}
	a.StartBucketSaver(context.Background())()
	var west app.BucketLevels
	b, err := os.ReadFile(filepath.Join(cfg.DataDir, app.PoolBucketsFile("west")))
	if err != nil || json.Unmarshal(b, &west) != nil {
		t.Fatalf("west's levels: %v %s", err, b)
	}
	if _, ok := west.Ops[op]; !ok {
		t.Errorf("west's spent bucket not saved: %+v", west)
	}
	var east app.BucketLevels
	b, err = os.ReadFile(filepath.Join(cfg.DataDir, app.PoolBucketsFile("east")))
	if err != nil || json.Unmarshal(b, &east) != nil || len(east.Ops) != 0 {
		t.Errorf("east's levels: %v %s (east spent nothing)", err, b)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, app.BucketsFile)); err == nil {
		t.Error("the single account's buckets.json written with pools")
	}
	// A new process takes the spent tokens back from west's fresh buckets only.
	ps2, err := app.BuildPools(context.Background(), cfg, homeAWS(), os.LookupEnv, nil, nil, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	a2 := &app.App{Config: cfg, Log: log, Pools: ps2, Admission: ps2[0].Admission}
	a2.StartBucketSaver(context.Background())()
	if tk, _ := ps2[1].Admission.Buckets.TokensAt(time.Now(), op); tk >= burst-0.5 {
		t.Errorf("west restarted with %v tokens of %v, want its spent bucket back", tk, burst)
	}
	if tk, _ := ps2[0].Admission.Buckets.TokensAt(time.Now(), op); tk < ps2[0].Admission.Buckets.Limit(op).Burst-0.5 {
		t.Errorf("east restarted with %v tokens, want full", tk)
	}
}
