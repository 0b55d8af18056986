package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/sigv4"
)

// call is one verified, authorised request.
type call struct {
	caller   *Caller
	op       string
	service  string
	body     []byte
	start    time.Time
	deadline time.Duration
}

// upstreamError is an upstream error response, kept whole so that it can
// be answered unchanged when retrying stops.
type upstreamError struct {
	resp *http.Response
	body []byte
}

func (e *upstreamError) Error() string { return "upstream answered " + e.resp.Status }

// HTTPResponse lets awserr read the status and headers.
func (e *upstreamError) HTTPResponse() *http.Response { return e.resp }

// forward runs the call under the governor: admit, re-sign and send,
// classify; retry inside the caller's deadline or answer.
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, c call) {
	labels := [2]string{c.caller.Principal, opLabel(c.op)}
	dctx, cancel := context.WithDeadline(r.Context(), c.start.Add(c.deadline))
	defer cancel()
	run := g.o.Governor.Start(c.op, governor.CallOptions{Priority: c.caller.Class()})
	sum := sha256.Sum256(c.body)
	payload := hex.EncodeToString(sum[:])
	var last *upstreamError
	var waited time.Duration
	defer func() {
		g.m.waited.WithLabelValues(labels[:]...).Observe(waited.Seconds())
		g.m.latency.WithLabelValues(labels[:]...).Observe(time.Since(c.start).Seconds())
	}()
	for {
		t := time.Now()
		release, err := g.shares.Enter(dctx, c.op, c.caller.Principal, c.caller.Share, c.caller.Class())
		if err == nil {
			err = run.Admit(dctx)
			release()
		} else {
			err = &governor.Error{Op: c.op, Reason: governor.ErrDeadline, Err: err}
		}
		waited += time.Since(t)
		if err != nil {
			g.stopped(w, r, c, labels, run.Finish(dctx, err), last)
			return
		}
		g.m.admitted.WithLabelValues(labels[:]...).Inc()
		resp, err := g.send(r.Context(), r, c, payload)
		if err != nil {
			s := run.Settle(dctx, err)
			if s.Retry {
				berr := run.Backoff(dctx, s.Delay)
				if berr == nil {
					g.shares.Return(c.op, c.caller.Principal, c.caller.Share)
					continue
				}
				s.Err = berr
			}
			g.stopped(w, r, c, labels, run.Finish(dctx, orErr(s.Err, err)), last)
			return
		}
		if resp.StatusCode < 400 {
			run.Settle(dctx, nil)
			_ = run.Finish(dctx, nil)
			g.m.responses.WithLabelValues(labels[0], labels[1], "ok").Inc()
			copyResponse(w, resp, "ok")
			return
		}
		eb, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		up := &upstreamError{resp: resp, body: eb}
		info := awserr.ParseResponse(c.op, resp, eb)
		if info.Class == awserr.ClassRateThrottle {
			g.m.throttled.WithLabelValues(labels[:]...).Inc()
		}
		last = up
		s := run.Settle(dctx, info.Err(up))
		if s.Retry {
			berr := run.Backoff(dctx, s.Delay)
			if berr == nil {
				// The service refused the attempt: the retry keeps the
				// caller's place among its peers.
				g.shares.Return(c.op, c.caller.Principal, c.caller.Share)
				continue
			}
			g.stopped(w, r, c, labels, run.Finish(dctx, berr), last)
			return
		}
		g.stopped(w, r, c, labels, run.Finish(dctx, s.Err), last)
		return
	}
}

func orErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// stopped answers a call the governor will not retry further: the last
// upstream response unchanged when there is one (with x-amz-retry-after
// when it was a throttle), else an AWS-shaped error of the gateway's own.
func (g *Gateway) stopped(w http.ResponseWriter, r *http.Request, c call, labels [2]string, err error, last *upstreamError) {
	if r.Context().Err() != nil {
		g.m.responses.WithLabelValues(labels[0], labels[1], awserr.ClassCanceled.String()).Inc()
		return // the caller has gone
	}
	info := awserr.Classify(c.op, err)
	class := info.Class.String()
	var ge *governor.Error
	isGov := errors.As(err, &ge)
	if last != nil {
		li := awserr.ParseResponse(c.op, last.resp, last.body)
		class = li.Class.String()
		if li.Class == awserr.ClassRateThrottle {
			ra := li.RetryAfter // the service's own estimate, when it sent one
			if ra <= 0 {
				ra = g.tokenIn(c.op)
			}
			last.resp.Header.Set("X-Amz-Retry-After", msString(ra))
		}
		g.m.responses.WithLabelValues(labels[0], labels[1], class).Inc()
		last.resp.Body = io.NopCloser(bytes.NewReader(last.body))
		last.resp.ContentLength = int64(len(last.body))
		last.resp.Header.Del("Content-Length")
		copyResponse(w, last.resp, class)
		return
	}
	switch {
	case isGov && (errors.Is(err, governor.ErrDeadline) || errors.Is(err, context.DeadlineExceeded)):
		// Never admitted inside the caller's deadline: answer as the
		// service would, with when a token will be there.
		g.m.responses.WithLabelValues(labels[0], labels[1], awserr.ClassRateThrottle.String()).Inc()
		writeAWSError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded", awserr.ClassRateThrottle.String(), g.tokenIn(c.op))
	case isGov && errors.Is(err, governor.ErrAdmission):
		g.m.responses.WithLabelValues(labels[0], labels[1], awserr.ClassTransient.String()).Inc()
		g.o.Logger.Warn("gateway: admission failed", "principal", labels[0], "op", c.op, "err", err)
		writeAWSError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "The gateway could not reach its rate limiter.", awserr.ClassTransient.String(), time.Second)
	default:
		// The upstream never answered (network failure).
		g.m.responses.WithLabelValues(labels[0], labels[1], awserr.ClassTransient.String()).Inc()
		g.o.Logger.Warn("gateway: upstream failed", "principal", labels[0], "op", c.op, "err", err)
		writeAWSError(w, http.StatusBadGateway, "ServiceUnavailableException", "The gateway could not reach the service.", awserr.ClassTransient.String(), 0)
	}
}

// tokenIn estimates when op's bucket will next hold a token.
func (g *Gateway) tokenIn(op string) time.Duration {
	l := g.o.Governor.Limiter().Limit(op)
	if l.Rate <= 0 {
		return time.Second
	}
	return time.Duration(float64(time.Second) / l.Rate)
}

func msString(d time.Duration) string {
	ms := int64((d + time.Millisecond - 1) / time.Millisecond)
	if ms < 1 {
		ms = 1
	}
	return itoa(ms)
}

// send re-signs the request with the gateway's own credentials and sends
// it upstream.
func (g *Gateway) send(ctx context.Context, in *http.Request, c call, payload string) (*http.Response, error) {
	target := g.connect
	if c.service == ServiceCampaigns {
		target = g.campaigns
	}
	path, query := sigv4.RequestPath(in)
	raw := target.Scheme + "://" + target.Host + target.Path + path
	if query != "" {
		raw += "?" + query
	}
	var body io.Reader = http.NoBody
	if len(c.body) > 0 {
		body = bytes.NewReader(c.body)
	}
	out, err := http.NewRequestWithContext(ctx, in.Method, raw, body)
	if err != nil {
		return nil, err
	}
	out.ContentLength = int64(len(c.body))
	copyRequestHeaders(out.Header, in.Header)
	creds, err := g.o.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	if err := g.signer.SignHTTP(ctx, creds, out, payload, c.service, g.o.Region, time.Now()); err != nil {
		return nil, err
	}
	return g.o.Transport.RoundTrip(out)
}

// copyBufs holds the buffers responses are copied through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// onlyReader and onlyWriter hide WriterTo and ReaderFrom, so io.CopyBuffer
// copies through the pooled buffer into the server's buffered writer: a
// small response goes out in one write with its headers.
type (
	onlyReader struct{ io.Reader }
	onlyWriter struct{ io.Writer }
)

// hopByHop are the connection-specific headers of RFC 9110 §7.6.1.
var hopByHop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// dropOnForward are request headers never forwarded: the caller's
// signature (the gateway signs afresh), framing the transport sets itself,
// the gateway's own controls, and proxy headers a caller could spoof.
var dropOnForward = map[string]bool{
	"Authorization": true, "X-Amz-Date": true, "X-Amz-Security-Token": true, "X-Amz-Content-Sha256": true,
	"Host": true, "Content-Length": true, "Expect": true, "Forwarded": true, "Via": true,
	"X-Real-Ip": true, "Client-Ip": true, "True-Client-Ip": true, "X-Client-Ip": true,
	"X-Original-Url": true, "X-Rewrite-Url": true, "X-Http-Method-Override": true,
}

// connectionTokens returns the header names listed in Connection.
func connectionTokens(h http.Header) map[string]bool {
	var out map[string]bool
	for _, v := range h.Values("Connection") {
		for f := range strings.SplitSeq(v, ",") {
			if f = textproto.TrimString(f); f != "" {
				if out == nil {
					out = map[string]bool{}
				}
				out[textproto.CanonicalMIMEHeaderKey(f)] = true
			}
		}
	}
	return out
}

func copyRequestHeaders(dst, src http.Header) {
	conn := connectionTokens(src)
	for k, vs := range src {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if dropOnForward[ck] || conn[ck] || isHopByHop(ck) ||
			strings.HasPrefix(ck, "X-Forwarded-") || strings.HasPrefix(ck, "X-Tollgate-") {
			continue
		}
		dst[ck] = append([]string(nil), vs...)
	}
}

func isHopByHop(k string) bool {
	for _, h := range hopByHop {
		if k == h {
			return true
		}
	}
	return false
}

// copyResponse writes resp to w unchanged but for hop-by-hop headers and
// the class header, streaming the body (flushing as it arrives when the
// length is unknown).
func copyResponse(w http.ResponseWriter, resp *http.Response, class string) {
	defer resp.Body.Close()
	conn := connectionTokens(resp.Header)
	h := w.Header()
	for k, vs := range resp.Header {
		if conn[k] || isHopByHop(k) {
			continue
		}
		h[k] = append([]string(nil), vs...)
	}
	h.Set(ClassHeader, class)
	w.WriteHeader(resp.StatusCode)
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	if resp.ContentLength >= 0 {
		_, _ = io.CopyBuffer(onlyWriter{w}, onlyReader{resp.Body}, buf)
		return
	}
	rc := http.NewResponseController(w)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}
