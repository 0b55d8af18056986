package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sigv4"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultRegion       = "us-east-1"
	DefaultMaxBodyBytes = 1 << 20
	DefaultDeadline     = 10 * time.Second
	DefaultMaxDeadline  = 60 * time.Second
	DefaultBodyTimeout  = 30 * time.Second
	// DeadlineHeader lets a caller set its own deadline for one request:
	// milliseconds ("2500") or a Go duration ("2.5s"), at most
	// Options.MaxDeadline. It is never forwarded.
	DeadlineHeader = "X-Tollgate-Deadline"
	// ClassHeader carries the classification of every response: "ok" or an
	// awserr class name (rate-throttle, concurrency-quota, hard-quota,
	// transient, client-fault, …).
	ClassHeader = "X-Tollgate-Class"
	// maxErrorBody bounds an upstream error body kept for classification
	// and replay.
	maxErrorBody = 1 << 20
	// admissionSlots is how many requests of one operation may wait in the
	// limiter at once; the rest wait in weighted order (ratelimit.Shares).
	admissionSlots = 4
	// shareCredit is how many turns a caller that arrives late (its SDK
	// slower to start, a cold Lambda) may catch up on callers that spent
	// the burst before it came (ratelimit.Shares.Credit).
	shareCredit = 8
)

// Options configure a Gateway. Credentials, Governor and Callers are
// required; the zero value of every other field means its default.
type Options struct {
	// Region is the Region served and signed for (default us-east-1).
	Region string
	// Upstream is the Amazon Connect endpoint (default
	// https://connect.<Region>.amazonaws.com).
	Upstream string
	// CampaignsUpstream is the Outbound Campaigns endpoint for
	// PutDialRequestBatch and other connect-campaigns requests (default:
	// Upstream when that is set, else
	// https://connect-campaigns.<Region>.amazonaws.com).
	CampaignsUpstream string
	// Credentials are the gateway's own AWS credentials, used to re-sign
	// every forwarded request.
	Credentials aws.CredentialsProvider
	// Governor admits each attempt and decides retries.
	Governor *governor.Governor
	// Callers authenticates and authorises callers.
	Callers *Callers
	// MaxBodyBytes caps request bodies (default 1 MiB); larger ones get 413.
	MaxBodyBytes int64
	// Deadline is how long one request may wait for admission and retries
	// when the caller sends no DeadlineHeader (default 10 s).
	Deadline time.Duration
	// MaxDeadline caps DeadlineHeader (default 60 s).
	MaxDeadline time.Duration
	// BodyTimeout bounds reading one request's body over a real connection
	// (default 30 s): a caller that announces a body and stalls gets 408
	// RequestTimeoutException instead of holding a connection forever. The
	// deadline is lifted once the body is read, so waiting for admission is
	// bounded by the caller's deadline alone.
	BodyTimeout time.Duration
	// Transport sends upstream requests (default: a clone of
	// http.DefaultTransport without transparent compression, so responses
	// come back byte for byte).
	Transport http.RoundTripper
	// Registerer receives the gateway's metrics (default: a new registry,
	// served at /metrics).
	Registerer prometheus.Registerer
	// Logger receives one line per rejected or failed request; nil
	// discards. Secrets and signatures are never logged.
	Logger *slog.Logger
	// Now is the clock for signature windows (default time.Now).
	Now func() time.Time
	// Token is the bearer token of GET /metrics and GET StatePath (the
	// gateway's own endpoints, authenticated like serve's). Empty: both
	// answer 401 (off). `tollgate gateway` uses serve's token (TOLLGATE_TOKEN
	// or <data-dir>/token), so serve's dashboard can read the state.
	Token string
}

func (o Options) withDefaults() (Options, error) {
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.Upstream == "" {
		o.Upstream = "https://connect." + o.Region + ".amazonaws.com"
		if o.CampaignsUpstream == "" {
			o.CampaignsUpstream = "https://connect-campaigns." + o.Region + ".amazonaws.com"
		}
	}
	if o.CampaignsUpstream == "" {
		o.CampaignsUpstream = o.Upstream
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Deadline <= 0 {
		o.Deadline = DefaultDeadline
	}
	if o.MaxDeadline <= 0 {
		o.MaxDeadline = DefaultMaxDeadline
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = DefaultBodyTimeout
	}
	if o.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DisableCompression = true
		t.MaxIdleConnsPerHost = 256
		o.Transport = t
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case o.Credentials == nil:
		return o, errors.New("gateway: Options.Credentials is required")
	case o.Governor == nil:
		return o, errors.New("gateway: Options.Governor is required")
	case o.Callers == nil:
		return o, errors.New("gateway: Options.Callers is required")
	}
	return o, nil
}

// Gateway is an http.Handler: verify → authorise → admit → re-sign →
// forward → classify → retry or answer. It is safe for concurrent use.
type Gateway struct {
	o         Options
	connect   *url.URL
	campaigns *url.URL
	verifier  *sigv4.Verifier
	signer    *v4.Signer
	m         *metrics
	metricsH  http.Handler
	shares    ratelimit.Shares // weighted order of callers within a class
	tokenSum  *[32]byte        // SHA-256 of Options.Token; nil: admin endpoints off
	started   time.Time
}

// New builds a Gateway.
func New(o Options) (*Gateway, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	g := &Gateway{o: o, signer: v4.NewSigner(), started: time.Now()}
	if o.Token != "" {
		sum := sha256.Sum256([]byte(o.Token))
		g.tokenSum = &sum
	}
	g.shares.Slots, g.shares.Credit = admissionSlots, shareCredit
	if g.connect, err = parseUpstream("upstream", o.Upstream); err != nil {
		return nil, err
	}
	if g.campaigns, err = parseUpstream("campaigns upstream", o.CampaignsUpstream); err != nil {
		return nil, err
	}
	g.verifier = sigv4.NewVerifier(o.Callers.Secret, sigv4.Options{
		Region: o.Region, Services: []string{ServiceConnect, ServiceCampaigns},
	})
	g.m, g.metricsH, err = newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	return g, nil
}

func parseUpstream(what, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("gateway: %s %q: want http(s)://host[:port][/base]", what, s)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// ServeHTTP serves GET /metrics and GET StatePath (bearer token) and
// every signed Connect or Outbound Campaigns request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if adminRequest(r) {
		g.serveAdmin(w, r)
		return
	}
	start := time.Now()
	if r.ContentLength > g.o.MaxBodyBytes {
		g.reject(w, r, "", "", http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
			"Request body of "+strconv.FormatInt(r.ContentLength, 10)+" bytes exceeds the gateway's limit of "+strconv.FormatInt(g.o.MaxBodyBytes, 10)+" bytes.")
		return
	}
	// Wall clock: connection deadlines are real time. Handlers without a
	// connection (recorders, in-memory transports) support none and need none.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(g.o.BodyTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.o.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &mbe):
			g.reject(w, r, "", "", http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
				"Request body exceeds the gateway's limit of "+strconv.FormatInt(g.o.MaxBodyBytes, 10)+" bytes.")
			return
		case errors.As(err, &ne) && ne.Timeout():
			w.Header().Set("Connection", "close")
			g.reject(w, r, "", "", http.StatusRequestTimeout, "RequestTimeoutException",
				"The request body was not received within "+g.o.BodyTimeout.String()+".")
			return
		}
		g.reject(w, r, "", "", http.StatusBadRequest, "SerializationException", "Unable to read the request body.")
		return
	}
	// Lifted: a deadline left set would cancel the request's context while
	// it waits for admission (the server's background read would fail).
	_ = rc.SetReadDeadline(time.Time{})
	auth, err := g.verifier.Verify(r, body, g.o.Now())
	if err != nil {
		var e *sigv4.Error
		if !errors.As(err, &e) {
			e = &sigv4.Error{Code: sigv4.CodeInvalidSignature, Status: http.StatusForbidden, Message: "The request signature could not be verified."}
		}
		g.reject(w, r, "", "", e.Status, e.Code, e.Message)
		return
	}
	caller, _ := g.o.Callers.Lookup(auth.AccessKeyID)
	path, _ := sigv4.RequestPath(r)
	op, service, known := match(r.Method, path)
	if known && service != auth.Service {
		g.reject(w, r, caller.Principal, op, http.StatusForbidden, sigv4.CodeInvalidSignature,
			"Credential should be scoped to correct service: '"+service+"'.")
		return
	}
	if !known {
		service = auth.Service
	}
	if !caller.Allows(op) {
		name := op
		if name == "" {
			name = r.Method + " " + path
		}
		g.reject(w, r, caller.Principal, op, http.StatusForbidden, "AccessDeniedException",
			"User: "+caller.Principal+" is not authorized to perform: "+service+":"+name)
		return
	}
	deadline, err := g.deadline(r)
	if err != nil {
		g.reject(w, r, caller.Principal, op, http.StatusBadRequest, "InvalidParameterException", err.Error())
		return
	}
	g.forward(w, r, call{caller: caller, op: op, service: service, body: body, start: start, deadline: deadline})
}

// deadline returns the caller's budget for this request.
func (g *Gateway) deadline(r *http.Request) (time.Duration, error) {
	v := r.Header.Get(DeadlineHeader)
	if v == "" {
		return g.o.Deadline, nil
	}
	var d time.Duration
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(ms) * time.Millisecond
	} else if d, err = time.ParseDuration(v); err != nil {
		return 0, fmt.Errorf("%s: %q is neither milliseconds nor a duration such as 2.5s", DeadlineHeader, clip(v))
	}
	if d <= 0 || d > g.o.MaxDeadline {
		return 0, fmt.Errorf("%s: %v is outside (0, %v]", DeadlineHeader, d, g.o.MaxDeadline)
	}
	return d, nil
}

// reject answers a request that is not forwarded, in AWS's error shape.
func (g *Gateway) reject(w http.ResponseWriter, r *http.Request, principal, op string, status int, code, msg string) {
	g.m.rejected.WithLabelValues(orDash(principal), opLabel(op), code).Inc()
	g.o.Logger.Info("gateway: request refused", "principal", orDash(principal), "op", op, "method", r.Method,
		"remote", r.RemoteAddr, "status", status, "code", code)
	writeAWSError(w, status, code, msg, "client-fault", 0)
}

// writeAWSError writes the restJson1 error shape the SDKs parse:
// X-Amzn-ErrorType, X-Amzn-RequestId and {"message": …}.
func writeAWSError(w http.ResponseWriter, status int, code, msg, class string, retryAfter time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", code)
	h.Set("X-Amzn-RequestId", requestID())
	h.Set(ClassHeader, class)
	if retryAfter > 0 {
		h.Set("X-Amz-Retry-After", strconv.FormatInt(int64((retryAfter+time.Millisecond-1)/time.Millisecond), 10))
	}
	w.WriteHeader(status)
	b, _ := jsonMessage(msg)
	_, _ = w.Write(b)
}

func jsonMessage(msg string) ([]byte, error) {
	return json.Marshal(struct {
		Message string `json:"message"`
	}{msg})
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func opLabel(op string) string {
	if op == "" {
		return "other"
	}
	return op
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
