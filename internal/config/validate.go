package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/redisx"
)

// Validate checks every field and returns all problems, each a *FieldError
// naming the field (joined with errors.Join), or nil.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "must be host:port, got %q", c.Listen)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		bad("listen", "port must be 0-65535, got %q", port)
	}
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		bad("tls_cert", "and tls_key go together: give both --tls-cert and --tls-key, or neither")
	case c.TLSCert == "" && !c.InsecureListen && !LoopbackAddr(c.Listen):
		if _, _, err := net.SplitHostPort(c.Listen); err == nil {
			bad("listen", "%s is not a loopback address, and without TLS the bearer token would cross the network in cleartext: "+
				"give --tls-cert and --tls-key, or --insecure-listen to accept that (e.g. behind a TLS-terminating proxy)", c.Listen)
		}
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	if c.Token != "" && (len(c.Token) < 16 || len(c.Token) > 256) {
		bad("token", "must be 16-256 characters (its value is not shown)")
	}
	if c.MaxBodyBytes < 1<<10 || c.MaxBodyBytes > 256<<20 {
		bad("max_body_bytes", "must be between 1024 and 268435456, got %d", c.MaxBodyBytes)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("log_format", "must be text or json, got %q", c.LogFormat)
	}
	checkURL := func(field, v string) {
		if v == "" {
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(field, "must be an http(s) URL, got %q", v)
		}
	}
	checkURL("aws.endpoint", c.AWS.Endpoint)
	checkURL("aws.campaigns_endpoint", c.AWS.CampaignsEndpoint)
	checkURL("queue.sqs.endpoint", c.Queue.SQS.Endpoint)

	switch c.Queue.Backend {
	case "embedded":
	case "sqs":
		if c.Queue.SQS.QueueURL == "" {
			bad("queue.sqs.queue_url", "is required with queue.backend sqs")
		}
		if c.Queue.SQS.WaitTime < time.Second || c.Queue.SQS.WaitTime > 20*time.Second {
			bad("queue.sqs.wait_time", "must be between 1s and 20s, got %v", c.Queue.SQS.WaitTime)
		}
		if c.Queue.MaxReceives > 1000 {
			bad("queue.max_receives", "must be at most 1000 with SQS (maxReceiveCount), got %d", c.Queue.MaxReceives)
		}
	default:
		bad("queue.backend", "must be embedded or sqs, got %q", c.Queue.Backend)
	}
	if c.Queue.MaxReceives < 1 || c.Queue.MaxReceives > 10000 {
		bad("queue.max_receives", "must be between 1 and 10000, got %d", c.Queue.MaxReceives)
	}
	if c.Queue.MaxFreeRequeues < -1 || c.Queue.MaxFreeRequeues > 100000 {
		bad("queue.max_free_requeues", "must be between -1 and 100000, got %d", c.Queue.MaxFreeRequeues)
	}

	d := c.Dispatch
	if d.Concurrency < 1 || d.Concurrency > 4096 {
		bad("dispatch.concurrency", "must be between 1 and 4096, got %d", d.Concurrency)
	}
	if d.CallTimeout < 100*time.Millisecond || d.CallTimeout > 15*time.Minute {
		bad("dispatch.call_timeout", "must be between 100ms and 15m, got %v", d.CallTimeout)
	}
	if d.Visibility != 0 && (d.Visibility < d.CallTimeout || d.Visibility > 12*time.Hour) {
		bad("dispatch.visibility", "must be 0 (6 × call_timeout) or between call_timeout (%v) and 12h, got %v", d.CallTimeout, d.Visibility)
	}
	if d.MaxBatch < 1 || d.MaxBatch > 25 {
		bad("dispatch.max_batch", "must be between 1 and 25, got %d", d.MaxBatch)
	}
	if d.MaxAttempts < 1 || d.MaxAttempts > 100 {
		bad("dispatch.max_attempts", "must be between 1 and 100, got %d", d.MaxAttempts)
	}
	if d.ShutdownGrace < 0 || d.ShutdownGrace > 10*time.Minute {
		bad("dispatch.shutdown_grace", "must be between 0 and 10m, got %v", d.ShutdownGrace)
	}

	l := c.Limits
	if l.QuotaSync != 0 && l.QuotaSync < time.Second {
		bad("limits.quota_sync", "must be 0 (off) or at least 1s, got %v", l.QuotaSync)
	}
	if l.RedisTimeout < 0 {
		bad("limits.redis_timeout", "must not be negative, got %v", l.RedisTimeout)
	}
	if !(l.RateScale > 0 && l.RateScale <= 10000) {
		bad("limits.rate_scale", "must be > 0 and at most 10000, got %v", l.RateScale)
	}
	if l.AccountRate < 0 || l.AccountBurst < 0 || l.AccountRate != l.AccountRate {
		bad("limits.account_rate", "account_rate and account_burst must not be negative")
	} else if l.AccountRate > 0 && l.AccountBurst < 1 {
		bad("limits.account_burst", "must be at least 1 when account_rate is set, got %v", l.AccountBurst)
	}
	if l.BurstHeadroom < 0 || l.BurstHeadroom > 1000 {
		bad("limits.burst_headroom", "must be between 0 and 1000, got %d", l.BurstHeadroom)
	}
	if l.Account != "" && (len(l.Account) != 12 || strings.Trim(l.Account, "0123456789") != "") {
		bad("limits.account", "must be a 12-digit AWS account id, got %q", l.Account)
	}
	if l.RedisURL != "" {
		if u, err := url.Parse(l.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			bad("limits.redis_url", "must be redis://host:port or rediss://host:port, got %q", redisx.RedactURL(l.RedisURL))
		}
		if l.Account == "" && len(c.Pools) == 0 {
			bad("limits.account", "is required with limits.redis_url (the shared buckets are per account and Region)")
		}
	}
	c.validateStagger(bad)
	c.validateVoice(bad)
	c.Poll.validate(bad)
	c.validatePools(bad)
	return errors.Join(errs...)
}

// LoopbackAddr reports whether host:port names only loopback interfaces:
// "localhost" or a loopback IP. An empty host (every interface) and any
// other name are not loopback.
func LoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
