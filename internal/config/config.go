package config

import (
	"time"
)

// Config is the whole configuration of `tollgate serve`.
type Config struct {
	// Listen is the HTTP API's address. Default 127.0.0.1:8787 (loopback).
	Listen string `yaml:"listen"`
	// TLSCert and TLSKey are PEM files (certificate chain and private key):
	// with both set the API is served over HTTPS only.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// InsecureListen allows a Listen address that is not loopback without
	// TLS (e.g. behind a TLS-terminating proxy on a private network): the
	// bearer token then crosses the network in cleartext.
	InsecureListen bool `yaml:"insecure_listen"`
	// DataDir holds the embedded queue and the generated token.
	DataDir string `yaml:"data_dir"`
	// Token is the API's bearer token. Empty: read DataDir/token, or
	// generate it there on first start (owner-only permissions).
	Token string `yaml:"token"`
	// MaxBodyBytes caps a request body; larger bodies get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// LogLevel is debug, info, warn or error; LogFormat is text or json.
	LogLevel  string `yaml:"log_level"`
	LogFormat string `yaml:"log_format"`

	AWS      AWS      `yaml:"aws"`
	Queue    Queue    `yaml:"queue"`
	Dispatch Dispatch `yaml:"dispatch"`
	Limits   Limits   `yaml:"limits"`
	Stagger  Stagger  `yaml:"stagger"` // desktop start-up reservations (stagger.go)
	Poll     Poll     `yaml:"poll"`
	// GatewayURL is a tollgate gateway whose state the dashboard shows
	// (GET <url>/_tollgate/state with serve's token; https:// unless the
	// host is loopback). Empty: no gateway panel.
	GatewayURL string `yaml:"gateway_url"`
	// Pools, when set, deliver the queue's jobs across several accounts
	// (quota pools; pools.go). Empty: the single account of AWS and Limits,
	// exactly as without the section.
	Pools Pools `yaml:"pools"`
}

// AWS selects the upstream.
type AWS struct {
	// Region; empty means the SDK's default chain (AWS_REGION, profile).
	Region string `yaml:"region"`
	// Profile is a shared-config profile; empty means the default chain.
	Profile string `yaml:"profile"`
	// Endpoint overrides the Connect endpoint, e.g. the simulator's URL.
	Endpoint string `yaml:"endpoint"`
	// CampaignsEndpoint overrides the Outbound Campaigns endpoint (default:
	// Endpoint when set, else the Region's).
	CampaignsEndpoint string `yaml:"campaigns_endpoint"`
}

// Queue selects and tunes the job queue.
type Queue struct {
	// Backend is "embedded" (a SQLite file in DataDir) or "sqs".
	Backend string `yaml:"backend"`
	// MaxReceives is the receive limit before the dead-letter queue.
	MaxReceives int `yaml:"max_receives"`
	// MaxFreeRequeues caps requeues not counted as failed receives
	// (concurrency quotas); negative means none are free.
	MaxFreeRequeues int `yaml:"max_free_requeues"`
	SQS             SQS `yaml:"sqs"`
}

// SQS configures the Amazon SQS backend.
type SQS struct {
	// QueueURL is the work queue: a URL or a bare queue name. It and the
	// dead-letter queue are created when missing.
	QueueURL string `yaml:"queue_url"`
	// DLQURL is the dead-letter queue: a URL or a name (default: the work
	// queue's name + "-dlq").
	DLQURL string `yaml:"dlq_url"`
	// Endpoint overrides the SQS endpoint (e.g. a local emulator).
	Endpoint string `yaml:"endpoint"`
	// WaitTime is the long-poll wait of a receive (1–20 s).
	WaitTime time.Duration `yaml:"wait_time"`
}

// Dispatch tunes delivery.
type Dispatch struct {
	// Concurrency caps the calls in flight.
	Concurrency int `yaml:"concurrency"`
	// CallTimeout bounds one governed call (admission, attempts, backoff).
	CallTimeout time.Duration `yaml:"call_timeout"`
	// Visibility is the lease timeout; 0 means 6 × CallTimeout.
	Visibility time.Duration `yaml:"visibility"`
	// MaxBatch caps dial requests per PutDialRequestBatch (1–25).
	MaxBatch int `yaml:"max_batch"`
	// MaxAttempts caps the governor's attempts per call.
	MaxAttempts int `yaml:"max_attempts"`
	// ShutdownGrace is how long calls in flight may finish at shutdown.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// Calls in progress: voice pacing and following contacts (voice.go).
	Voice `yaml:",inline"`
}

// Limits seed the governor's buckets.
type Limits struct {
	// RateScale multiplies every published rate and burst (1 for real
	// Amazon Connect; match the simulator's --rate-scale when using it).
	RateScale float64 `yaml:"rate_scale"`
	// QuotaFile holds quota overrides (the quotafile format), for example
	// an increase AWS granted.
	QuotaFile string `yaml:"quota_file"`
	// AccountRate and AccountBurst cap all operations together; 0 means no
	// account-wide cap.
	AccountRate  float64 `yaml:"account_rate"`
	AccountBurst float64 `yaml:"account_burst"`
	// Account the quota file's scoped overrides are matched against.
	Account string `yaml:"account"`
	// BurstHeadroom is how many tokens of each operation's burst the
	// governor leaves unused. Connect's bucket refills from the moment a
	// request arrives, ours from the moment it is sent, so uneven network
	// latency can land a request a little early; one spare token absorbs up
	// to 1/rate of jitter at the cost of one call's time per campaign.
	BurstHeadroom int `yaml:"burst_headroom"`
	// Adaptive wraps the limiter with the adaptive learner (package
	// adaptive): each operation's rate follows the share of the quota
	// actually left for this client. With RedisURL the learner's state is
	// shared through Redis, so the whole fleet learns as one client.
	Adaptive bool `yaml:"adaptive"`
	// RedisURL, when set, shares the buckets (and, with Adaptive, the
	// learner) through Redis (package redisx): redis://[user:password@]host:port[/db]
	// or rediss://… for TLS. Requires Account; the AWS Region completes the
	// key. The password is never logged.
	RedisURL string `yaml:"redis_url"`
	// RedisTimeout bounds every Redis command; past it the limiter falls
	// back to local buckets until Redis answers in time again. 0 means
	// redisx.DefaultTimeout (50ms, for a Redis in the same zone).
	RedisTimeout time.Duration `yaml:"redis_timeout"`
	// QuotaSync, when not 0, re-reads the applied quotas from Service
	// Quotas on this interval and sets the limiter's rates (package usage),
	// so an approved increase applies without a restart; with
	// dispatch.call_pacing it also sets each instance's calls-in-progress
	// budget from that instance's applied concurrent-active-calls quota.
	// 0: off.
	QuotaSync time.Duration `yaml:"quota_sync"`
}

// Default values.
const (
	DefaultListen       = "127.0.0.1:8787"
	DefaultDataDir      = "tollgate-data"
	DefaultMaxBodyBytes = 4 << 20
)

// Default returns the configuration with every default filled in.
func Default() Config {
	return Config{
		Listen:       DefaultListen,
		DataDir:      DefaultDataDir,
		MaxBodyBytes: DefaultMaxBodyBytes,
		LogLevel:     "info",
		LogFormat:    "text",
		Queue: Queue{
			Backend:         "embedded",
			MaxReceives:     5,
			MaxFreeRequeues: 20,
			SQS:             SQS{WaitTime: 20 * time.Second},
		},
		Dispatch: Dispatch{
			Concurrency:   16,
			CallTimeout:   30 * time.Second,
			MaxBatch:      25,
			MaxAttempts:   8,
			ShutdownGrace: 10 * time.Second,
			Voice:         DefaultVoice(),
		},
		Limits: Limits{RateScale: 1, BurstHeadroom: 1},
		Poll:   Poll{Share: 0.5, Interval: 5 * time.Second},
	}
}

// EffectiveVisibility is Dispatch.Visibility, or 6 × CallTimeout when 0.
func (c Config) EffectiveVisibility() time.Duration {
	if c.Dispatch.Visibility > 0 {
		return c.Dispatch.Visibility
	}
	return 6 * c.Dispatch.CallTimeout
}
