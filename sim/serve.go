package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// ListenAndServe serves h on addr (host:port; port 0 picks a free one) until
// ctx is done, then shuts down gracefully. ready, if not nil, is called with
// the base URL once the listener is bound.
func ListenAndServe(ctx context.Context, addr string, h http.Handler, ready func(baseURL string)) error {
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// The handler gives each body Options.BodyTimeout; this bounds the
		// rest (admin bodies, a handler that does not read).
		ReadTimeout:    2 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
	}
	if h, ok := h.(interface{ releaseHeld() }); ok {
		// Requests an outage holds are answered at once, so the
		// shutdown does not wait for them.
		srv.RegisterOnShutdown(h.releaseHeld)
	}
	if ready != nil {
		ready("http://" + ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// WriteBanner prints what a user needs to point a client at the simulator:
// the URL, the account and instance, a Go snippet and the AWS CLI form.
func (s *Server) WriteBanner(w io.Writer, baseURL string) error {
	info := s.Info()
	first := func(list []NamedID) string {
		if len(list) == 0 {
			return "-"
		}
		return list[0].ID
	}
	instanceID, flow, queue, phone := "-", "-", "-", "-"
	if len(info.Instances) > 0 {
		in := info.Instances[0]
		instanceID, flow, queue = in.ID, first(in.ContactFlows), first(in.Queues)
		if len(in.PhoneNumbers) > 0 {
			phone = in.PhoneNumbers[0].Name
		}
	}
	campaign := first(info.Campaigns)
	key, secret := "AKIDSIMULATOR", "simulator-secret"
	if len(s.o.Credentials) > 0 {
		key = sortedKeys(s.o.Credentials)[0]
		secret = "<secret of " + key + ">"
	}
	_, err := fmt.Fprintf(w, `tollgate sim: Amazon Connect simulator listening on %[1]s
  account %[2]s, region %[3]s, instance %[4]s
  contact flow %[5]s, queue %[6]s, phone number %[7]s, campaign %[8]s
  stats %[1]s/_sim/stats   info %[1]s/_sim/info   metrics %[1]s/metrics

Go (aws-sdk-go-v2):
	client := connect.New(connect.Options{
		Region:       %[3]q,
		BaseEndpoint: aws.String(%[1]q),
		Credentials:  credentials.NewStaticCredentialsProvider(%[9]q, %[10]q, ""),
	})

AWS CLI:
	AWS_ACCESS_KEY_ID=%[9]s AWS_SECRET_ACCESS_KEY=%[10]s \
	aws connect list-queues --instance-id %[4]s --endpoint-url %[1]s --region %[3]s
`, baseURL, s.o.AccountID, s.o.Region, instanceID, flow, queue, phone, campaign, key, secret)
	if err == nil && s.adminToken != "" && s.o.AdminToken == "" {
		_, err = fmt.Fprintf(w, "\nadmin token (generated; /_sim/ and /metrics need \"Authorization: Bearer <token>\"): %s\n", s.adminToken)
	}
	return err
}
