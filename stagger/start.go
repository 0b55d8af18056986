package stagger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultStartTimeout is how long Start waits for the reservation service
// before falling back to the hashed slot.
const DefaultStartTimeout = 2 * time.Second

// Sources of a start delay.
const (
	SourceReserve  = "reserve"
	SourceFallback = "fallback"
)

// StartOptions configure Start, the Go twin of the JavaScript module's
// staggerStart. The zero value of each field means its default.
type StartOptions struct {
	// ReserveURL is serve's POST /v1/stagger/reserve URL; empty: always
	// use the fallback slot.
	ReserveURL string
	// Token is the desktop token.
	Token string
	// Window and SlotWidth define the fallback slots (the planned hashed
	// window; slot width default 1 s); Salt is the deployment's salt.
	Window    time.Duration
	SlotWidth time.Duration
	Salt      string
	// Timeout bounds the reservation request (default 2 s).
	Timeout time.Duration
	// HTTPClient sends it; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// Started says how a start was delayed.
type Started struct {
	Source string        // SourceReserve or SourceFallback
	Delay  time.Duration // waited from the call of Start
	// Reason is why the fallback was used ("" with a reservation).
	Reason string
}

// Start waits until login may start: the delay of a reservation when the
// service answers within Timeout, else the rest of the login's fallback
// slot (SlotDelay counted from the call of Start). It returns early with
// ctx's error.
func Start(ctx context.Context, login string, o StartOptions) (Started, error) {
	begin := time.Now()
	st := Ask(ctx, login, o)
	if st.Source == SourceFallback {
		st.Delay = max(0, st.Delay-time.Since(begin))
	}
	t := time.NewTimer(st.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return st, nil
	case <-ctx.Done():
		return st, ctx.Err()
	}
}

// Ask asks the reservation service for login's delay, or returns the
// fallback slot's delay (from the shift start) with the reason.
func Ask(ctx context.Context, login string, o StartOptions) Started {
	fb := func(reason string) Started {
		return Started{Source: SourceFallback, Delay: SlotDelay(login, o.Salt, o.Window, o.SlotWidth), Reason: reason}
	}
	if o.ReserveURL == "" {
		return fb("no reserve URL")
	}
	d, err := reserve(ctx, login, o)
	if err != nil {
		return fb(err.Error())
	}
	return Started{Source: SourceReserve, Delay: d}
}

func reserve(ctx context.Context, login string, o StartOptions) (time.Duration, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, _ := json.Marshal(ReserveRequest{Login: login})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.ReserveURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("reserve URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+o.Token)
	c := o.HTTPClient
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxReserveBody))
		return 0, fmt.Errorf("reserve: HTTP %d", resp.StatusCode)
	}
	var rr ReserveResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, MaxReserveBody)).Decode(&rr); err != nil {
		return 0, fmt.Errorf("reserve: decoding the answer: %w", err)
	}
	if rr.DelayMS < 0 {
		return 0, fmt.Errorf("reserve: negative delay %d ms", rr.DelayMS)
	}
	return time.Duration(rr.DelayMS) * time.Millisecond, nil
}
