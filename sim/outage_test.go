package sim

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
)

// TestSimOutageModes: each outage mode refuses every Connect request of
// its account only, counted in that account's refused_outage, until off.
func TestSimOutageModes(t *testing.T) {
	m := newMulti(t, Options{Accounts: 2})
	accts := m.Accounts()
	list := func(k int) error {
		_, err := accountClient(t, m, k).ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(accts[k-1].InstanceID)})
		return err
	}
	setOutage := func(path, mode string) OutageStatus {
		t.Helper()
		var st OutageStatus
		if code := admin(t, m, "POST", path, `{"mode":"`+mode+`"}`, &st); code != 200 {
			t.Fatalf("POST %s %s: %d", path, mode, code)
		}
		return st
	}
	st := setOutage("/_sim/accounts/2/outage", OutageAccessDenied)
	if st.AccountID != MultiAccountID(2) || st.Mode != OutageAccessDenied {
		t.Fatalf("outage status %+v", st)
	}
	err := list(2)
	if code := genericCode(t, err); code != "AccessDeniedException" || httpStatus(t, err) != 403 {
		t.Fatalf("access-denied: %v", err)
	}
	if err := list(1); err != nil {
		t.Fatalf("account 1 during account 2's outage: %v", err)
	}
	setOutage("/_sim/accounts/2/outage", OutageUnavailable)
	if err := list(2); httpStatus(t, err) != 503 {
		t.Fatalf("unavailable: %v", err)
	}
	// The unprefixed route is account 1's.
	setOutage("/_sim/outage", OutageAccessDenied)
	if code := genericCode(t, list(1)); code != "AccessDeniedException" {
		t.Fatalf("account 1: %s", code)
	}
	setOutage("/_sim/outage", OutageOff)
	setOutage("/_sim/accounts/2/outage", OutageOff)
	for k := 1; k <= 2; k++ {
		if err := list(k); err != nil {
			t.Fatalf("account %d after off: %v", k, err)
		}
	}
	var s1, s2 Stats
	admin(t, m, "GET", "/_sim/accounts/1/stats", "", &s1)
	admin(t, m, "GET", "/_sim/accounts/2/stats", "", &s2)
	if s1.RefusedOutage != 1 || s2.RefusedOutage != 2 || s2.Totals.Errors != 2 || s2.Operations["ListQueues"].ErrorsByCode["AccessDeniedException"] != 1 {
		t.Fatalf("refused: account 1 %d, account 2 %d %+v", s1.RefusedOutage, s2.RefusedOutage, s2.Totals)
	}
	var sum Stats
	admin(t, m, "GET", "/_sim/stats", "", &sum)
	if sum.RefusedOutage != 3 {
		t.Fatalf("summed refused_outage %d", sum.RefusedOutage)
	}
	if code := admin(t, m, "POST", "/_sim/accounts/2/outage", `{"mode":"sometimes"}`, nil); code != 400 {
		t.Fatalf("bad mode: %d", code)
	}
	var cur OutageStatus
	if code := admin(t, m, "GET", "/_sim/accounts/2/outage", "", &cur); code != 200 || cur.Mode != OutageOff {
		t.Fatalf("GET outage: %d %+v", code, cur)
	}
}

// TestSimOutageTimeout: a timeout outage holds requests until the client
// gives up, the mode changes, OutageHold passes or the server closes.
func TestSimOutageTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMulti(t, Options{Accounts: 2})
		accts := m.Accounts()
		list := func(ctx context.Context, k int) error {
			_, err := accountClient(t, m, k).ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(accts[k-1].InstanceID)})
			return err
		}
		if err := m.Account(2).SetOutage(OutageTimeout); err != nil {
			t.Fatal(err)
		}
		// The client gives up after 5 s.
		start := time.Now()
		cctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err := list(cctx, 2)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 5*time.Second {
			t.Fatalf("client timeout: %v after %v", err, time.Since(start))
		}
		if err := list(t.Context(), 1); err != nil {
			t.Fatalf("account 1: %v", err)
		}
		// No client timeout: held OutageHold, then 503.
		start = time.Now()
		if err := list(t.Context(), 2); httpStatus(t, err) != 503 || time.Since(start) != OutageHold {
			t.Fatalf("held: %v after %v", err, time.Since(start))
		}
		// Ending the outage answers the held request at once.
		done := make(chan error, 1)
		go func() { done <- list(t.Context(), 2) }()
		time.Sleep(time.Second)
		synctest.Wait()
		if err := m.Account(2).SetOutage(OutageOff); err != nil {
			t.Fatal(err)
		}
		if err := <-done; httpStatus(t, err) != 503 {
			t.Fatalf("released by off: %v", err)
		}
		if err := list(t.Context(), 2); err != nil {
			t.Fatalf("after off: %v", err)
		}
		// Close answers held requests too.
		_ = m.Account(2).SetOutage(OutageTimeout)
		go func() { done <- list(t.Context(), 2) }()
		synctest.Wait()
		_ = m.Close()
		if err := <-done; httpStatus(t, err) != 503 {
			t.Fatalf("released by Close: %v", err)
		}
		st := m.Account(2).Stats()
		if st.RefusedOutage != 4 || st.Operations["ListQueues"].ErrorsByCode[codeClientClosedRequest] != 1 || st.Operations["ListQueues"].ErrorsByCode[codeOutageHeld] != 3 {
			t.Fatalf("stats: refused %d, errors %v", st.RefusedOutage, st.Operations["ListQueues"].ErrorsByCode)
		}
	})
}

// TestSimOutageShutdown: ListenAndServe answers the requests a timeout
// outage holds when it shuts down (a 503, not a dropped connection) and
// returns.
func TestSimOutageShutdown(t *testing.T) {
	m := newMulti(t, Options{Accounts: 2})
	if err := m.Account(1).SetOutage(OutageTimeout); err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- ListenAndServe(sctx, "127.0.0.1:0", m, func(u string) { urls <- u }) }()
	url := <-urls
	c := accountClient(t, m, 1)
	got := make(chan error, 1)
	go func() {
		_, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(m.Accounts()[0].InstanceID)}, func(o *connect.Options) {
			o.BaseEndpoint = aws.String(url)
			o.HTTPClient = &http.Client{}
		})
		got <- err
	}()
	for m.Account(1).Stats().RefusedOutage == 0 { // wait until held
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	if err := <-got; httpStatus(t, err) != 503 {
		t.Fatalf("held request at shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("ListenAndServe: %v", err)
	}
}

// TestSimOutageLostResponse: a lost-response outage serves the request —
// the call is placed — and holds the answer until the client gives up. The
// same ClientToken after the outage returns the contact already started;
// no second contact is placed.
func TestSimOutageLostResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMulti(t, Options{Accounts: 2})
		a := m.Accounts()[1]
		c := accountClient(t, m, 2)
		in := &connect.StartOutboundVoiceContactInput{InstanceId: aws.String(a.InstanceID), ContactFlowId: aws.String(a.ContactFlowID),
			DestinationPhoneNumber: aws.String("+12065550123"), ClientToken: aws.String("lost-1")}
		if err := m.Account(2).SetOutage(OutageLostResponse); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		_, err := c.StartOutboundVoiceContact(cctx, in)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("answer not lost: %v", err)
		}
		st := m.Account(2).Stats()
		if st.ContactsStarted != 1 || st.RefusedOutage != 1 {
			t.Fatalf("during the outage: contacts_started %d, refused_outage %d; want the call placed (1) and its answer lost (1)", st.ContactsStarted, st.RefusedOutage)
		}
		if err := m.Account(2).SetOutage(OutageOff); err != nil {
			t.Fatal(err)
		}
		out, err := c.StartOutboundVoiceContact(t.Context(), in)
		if err != nil || aws.ToString(out.ContactId) == "" {
			t.Fatalf("retry after the outage: %v", err)
		}
		if st := m.Account(2).Stats(); st.ContactsStarted != 1 || st.DuplicateClientTokens != 1 {
			t.Fatalf("after the retry: contacts_started %d, duplicate_client_tokens %d; want 1 and 1", st.ContactsStarted, st.DuplicateClientTokens)
		}
	})
}
