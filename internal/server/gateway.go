package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/gateway"
)

// gatewayReadTimeout bounds one read of the gateway's state.
const gatewayReadTimeout = time.Second

// GatewayPanel is a tollgate gateway's part of the dashboard's state: its
// state per caller × operation (admitted, throttled upstream, waited,
// latency), or why it could not be read.
type GatewayPanel struct {
	URL   string         `json:"url"`
	Error string         `json:"error,omitempty"`
	State *gateway.State `json:"state,omitempty"`
}

// gatewayReader reads a gateway's state (gateway.StatePath) with serve's
// own token: serve and the gateway share it (the same TOLLGATE_TOKEN or
// data directory), so no second secret is configured.
type gatewayReader struct {
	base   string
	token  string
	client *http.Client
}

// newGatewayReader checks the gateway_url setting. The token travels with
// every read, so plain http is allowed only to a loopback host.
func newGatewayReader(raw, token string) (*gatewayReader, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("gateway_url: not a URL; want http(s)://host:port of a tollgate gateway")
	}
	shown := clipName(u.Redacted()) // never echo a password
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("gateway_url %q: want http(s)://host:port of a tollgate gateway (no user, query or fragment)", shown)
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("gateway_url %q: serve's token would travel in clear; use https:// (or a loopback address)", shown)
	}
	return &gatewayReader{
		base:   strings.TrimSuffix(u.String(), "/"),
		token:  token,
		client: &http.Client{Timeout: gatewayReadTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}, nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// read returns the panel: the state, or the error (never the token).
func (g *gatewayReader) read(ctx context.Context) GatewayPanel {
	p := GatewayPanel{URL: g.base}
	st, err := g.state(ctx)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.State = st
	return p
}

func (g *gatewayReader) state(ctx context.Context) (*gateway.State, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base+gateway.StatePath, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+g.token)
	resp, err := g.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("reading the gateway: %w", err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, 8<<20)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, errors.New("the gateway refused serve's token: run it with the same --data-dir or TOLLGATE_TOKEN")
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("the gateway answered %s", resp.Status)
	}
	var st gateway.State
	if err := json.NewDecoder(body).Decode(&st); err != nil {
		return nil, fmt.Errorf("the gateway's state: %w", err)
	}
	return &st, nil
}
