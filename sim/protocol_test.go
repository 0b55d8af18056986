package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
)

type rawResp struct {
	status  int
	header  http.Header
	body    map[string]any
	rawBody string
}

// do sends one raw request to h, optionally SigV4-signed with the real
// aws-sdk-go-v2 signer.
func do(t *testing.T, h http.Handler, method, path, body string, sign *aws.Credentials, service string, at time.Time) rawResp {
	t.Helper()
	req := httptest.NewRequest(method, "http://connect.sim.local"+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if sign != nil {
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), *sign, req, hex.EncodeToString(sum[:]), service, "us-east-1", at); err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := rawResp{status: rec.Code, header: rec.Header(), rawBody: rec.Body.String()}
	_ = json.Unmarshal(rec.Body.Bytes(), &r.body)
	return r
}

func (r rawResp) check(t *testing.T, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (body %s)", r.status, status, r.rawBody)
	}
	if code == "" {
		return
	}
	if got := r.header.Get("X-Amzn-ErrorType"); got != code {
		t.Fatalf("X-Amzn-ErrorType %q, want %q", got, code)
	}
	if r.header.Get("X-Amzn-RequestId") == "" || r.header.Get("Date") == "" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("missing wire headers: %v", r.header)
	}
	if r.body == nil {
		t.Fatalf("body is not a JSON object: %q", r.rawBody)
	}
}

func TestProtocolErrors(t *testing.T) {
	s := newServer(t, Options{MaxBodyBytes: 1024})
	steps := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"GET", "/no/such/route", "", 404, "UnknownOperationException"},
		{"DELETE", "/instance", "", 404, "UnknownOperationException"},
		{"GET", "/users/" + DefaultInstanceID + "/", "", 404, "UnknownOperationException"},
		{"PUT", "/contact/outbound-voice", `{"InstanceId":`, 400, "SerializationException"},
		{"PUT", "/contact/outbound-voice", `[1,2]`, 400, "SerializationException"},
		{"PUT", "/contact/outbound-voice", `{"RingTimeoutInSeconds":"soon"}`, 400, "SerializationException"},
		{"PUT", "/contact/outbound-voice", `{"InstanceId":"` + strings.Repeat("x", 2000) + `"}`, 413, "RequestEntityTooLargeException"},
		{"PUT", "/contact/outbound-voice", `{}`, 400, "InvalidParameterException"},
		{"GET", "/users-summary/" + DefaultInstanceID + "?maxResults=abc", "", 400, "SerializationException"},
		{"GET", "/users-summary/" + DefaultInstanceID + "?maxResults=0", "", 400, "InvalidParameterException"},
		{"PUT", "/instance", `{"IdentityManagementType":"CONNECT_MANAGED"}`, 400, "InvalidRequestException"},
		{"POST", "/contact/stop", `{"InstanceId":"` + DefaultInstanceID + `","ContactId":"nope"}`, 410, "ContactNotFoundException"},
	}
	for i, st := range steps {
		r := do(t, s, st.method, st.path, st.body, nil, "", time.Time{})
		if r.status != st.status || r.header.Get("X-Amzn-ErrorType") != st.code {
			t.Fatalf("step %d: %s %s: got %d %s, want %d %s (%s)", i, st.method, st.path, r.status, r.header.Get("X-Amzn-ErrorType"), st.status, st.code, r.rawBody)
		}
		r.check(t, st.status, st.code)
		if _, ok := r.body["Message"]; !ok {
			t.Fatalf("step %d: no Message member: %s", i, r.rawBody)
		}
	}
	r := do(t, s, "PUT", "/contact/outbound-voice", `{}`, nil, "", time.Time{})
	if msg := r.body["Message"].(string); !strings.Contains(msg, "3 validation errors detected") || !strings.Contains(msg, "'contactFlowId'") {
		t.Fatalf("validation message %q", msg)
	}
	st := s.Stats()
	if st.Operations["Unknown"].ErrorsByCode["UnknownOperationException"] != 3 || st.Callers[CallerAnonymous].Requests != int64(len(steps)+1) {
		t.Fatalf("stats: %+v %+v", st.Operations["Unknown"], st.Callers)
	}
	mustInvariants(t, s)
}

func TestPutDialRequestBatch(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	seed := DefaultSeed()
	seed.Campaigns = append(seed.Campaigns, SeedCampaign{ID: "paused-campaign", Name: "p", State: "Paused"})
	s := newServer(t, Options{Now: func() time.Time { return now }, DialRate: 1, DialBurst: 2, State: seed})
	if err := s.SetQuota("PutDialRequestBatch", 100, 100); err != nil {
		t.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: "AKIDDIALER", SecretAccessKey: "s"}
	item := func(tok, num string, exp time.Time) string {
		return fmt.Sprintf(`{"clientToken":%q,"phoneNumber":%q,"expirationTime":%q,"attributes":{"k":"v"}}`, tok, num, exp.Format(time.RFC3339))
	}
	path := "/campaigns/" + DefaultCampaignID + "/dial-requests"
	later := now.Add(time.Hour)
	body := `{"dialRequests":[` + item("a", "+14155550100", later) + "," + item("b", "+14155550101", later) + "," +
		item("c", "+14155550102", later) + "," + item("old", "+14155550103", now.Add(-time.Minute)) + `]}`
	r := do(t, s, "PUT", path, body, &creds, "connect-campaigns", now)
	r.check(t, 200, "")
	var out struct {
		SuccessfulRequests []struct{ ClientToken, ID string } `json:"successfulRequests"`
		FailedRequests     []struct {
			ClientToken string `json:"clientToken"`
			FailureCode string `json:"failureCode"`
		} `json:"failedRequests"`
	}
	if err := json.Unmarshal([]byte(r.rawBody), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.SuccessfulRequests) != 2 || len(out.FailedRequests) != 2 ||
		out.FailedRequests[0].FailureCode != "RequestThrottled" || out.FailedRequests[0].ClientToken != "c" ||
		out.FailedRequests[1].FailureCode != "InvalidInput" {
		t.Fatalf("unexpected batch result %s", r.rawBody)
	}
	firstID := out.SuccessfulRequests[0].ID
	now = now.Add(time.Second) // one dial token refills
	r = do(t, s, "PUT", path, `{"dialRequests":[`+item("a", "+14155550100", later)+","+item("c", "+14155550102", later)+`]}`, &creds, "connect-campaigns", now)
	out.SuccessfulRequests, out.FailedRequests = nil, nil
	_ = json.Unmarshal([]byte(r.rawBody), &out)
	if len(out.SuccessfulRequests) != 2 || out.SuccessfulRequests[0].ID != firstID {
		t.Fatalf("retry with the same tokens: %s", r.rawBody)
	}
	if st := s.Stats(); st.DuplicateClientTokens != 1 || st.DialRequests["Accepted"] != 3 || st.DialRequests["RequestThrottled"] != 1 || st.Callers["AKIDDIALER"].Accepted != 2 {
		t.Fatalf("stats: dup %d dial %v callers %v", st.DuplicateClientTokens, st.DialRequests, st.Callers)
	}

	many := make([]string, 26)
	for i := range many {
		many[i] = item(fmt.Sprint("t", i), "+1", later)
	}
	r = do(t, s, "PUT", path, `{"dialRequests":[`+strings.Join(many, ",")+`]}`, &creds, "connect-campaigns", now)
	r.check(t, 400, "ValidationException")
	if _, ok := r.body["message"]; !ok {
		t.Fatalf("campaigns errors use a lower-case message member: %s", r.rawBody)
	}
	do(t, s, "PUT", path, `{"dialRequests":[]}`, &creds, "connect-campaigns", now).check(t, 400, "ValidationException")
	do(t, s, "PUT", path, `{"dialRequests":[`+item("bad token!", "+1", later)+`]}`, &creds, "connect-campaigns", now).check(t, 400, "ValidationException")
	do(t, s, "PUT", "/campaigns/nope/dial-requests", `{"dialRequests":[`+item("x", "+1", later)+`]}`, &creds, "connect-campaigns", now).check(t, 404, "ResourceNotFoundException")
	r = do(t, s, "PUT", "/campaigns/paused-campaign/dial-requests", `{"dialRequests":[`+item("x", "+1", later)+`]}`, &creds, "connect-campaigns", now)
	r.check(t, 409, "InvalidCampaignStateException")
	if r.body["state"] != "Paused" {
		t.Fatalf("InvalidCampaignStateException lacks state: %s", r.rawBody)
	}
	if err := s.SetQuota("PutDialRequestBatch", 1, 1); err != nil {
		t.Fatal(err)
	}
	do(t, s, "PUT", path, `{"dialRequests":[`+item("y", "+1", later)+`]}`, &creds, "connect-campaigns", now).check(t, 200, "")
	do(t, s, "PUT", path, `{"dialRequests":[`+item("z", "+1", later)+`]}`, &creds, "connect-campaigns", now).check(t, 429, "ThrottlingException")
	mustInvariants(t, s)
}

func TestSigV4Verification(t *testing.T) {
	s := newServer(t, Options{Credentials: map[string]string{"AKIDGOOD": "good-secret"}})
	good := aws.Credentials{AccessKeyID: "AKIDGOOD", SecretAccessKey: "good-secret"}
	now := time.Now()

	// Real SDK client end to end: right key, unknown key, wrong secret.
	c := connect.New(connect.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://connect.sim.local"),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDGOOD", "good-secret", ""),
		HTTPClient:  &http.Client{Transport: handlerTransport{s}}, RetryMaxAttempts: 1})
	if _, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst, QueueTypes: []types.QueueType{"STANDARD", "AGENT"}, MaxResults: aws.Int32(2)}); err != nil {
		t.Fatalf("signed ListQueues with query: %v", err)
	}
	if _, err := c.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{InstanceId: inst, ContactFlowId: aws.String(DefaultContactFlowID),
		DestinationPhoneNumber: aws.String("+14155550100"), Attributes: map[string]string{"note": "spaces  and ünïcode"}}); err != nil {
		t.Fatalf("signed SOVC with body: %v", err)
	}
	_, err := c.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String("odd id/with:chars %")})
	asErr[*types.ResourceNotFoundException](t, err) // the escaped path verified; the user does not exist

	bad := newClient(t, s) // AKIDTESTCALLER is unknown
	_, err = bad.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String(DefaultUserID)})
	if code := genericCode(t, err); code != "UnrecognizedClientException" || httpStatus(t, err) != 403 {
		t.Fatalf("unknown key: %s %d", code, httpStatus(t, err))
	}
	wrong := connect.New(connect.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://connect.sim.local"),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDGOOD", "wrong-secret", ""),
		HTTPClient:  &http.Client{Transport: handlerTransport{s}}, RetryMaxAttempts: 1})
	_, err = wrong.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String(DefaultUserID)})
	if code := genericCode(t, err); code != "InvalidSignatureException" || httpStatus(t, err) != 403 {
		t.Fatalf("wrong secret: %s %d", code, httpStatus(t, err))
	}

	// Raw requests signed by the SDK's signer.
	do(t, s, "GET", "/instance/"+DefaultInstanceID, "", &good, "connect", now).check(t, 200, "")
	do(t, s, "GET", "/instance/"+DefaultInstanceID, "", nil, "", now).check(t, 403, "MissingAuthenticationTokenException")
	do(t, s, "GET", "/instance/"+DefaultInstanceID, "", &good, "connect", now.Add(-10*time.Minute)).check(t, 403, "InvalidSignatureException")

	// Repeated query parameters in the order the AWS CLI sends them
	// (aws connect list-queues --queue-types STANDARD AGENT): the canonical
	// query sorts by name and then by value, whatever the wire order.
	lq := httptest.NewRequest("GET", "http://connect.sim.local/queues-summary/"+DefaultInstanceID+"?queueTypes=STANDARD&queueTypes=AGENT", nil)
	if err := v4.NewSigner().SignHTTP(ctx, good, lq, hex.EncodeToString(sha256.New().Sum(nil)), "connect", "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	lq.URL.RawQuery = "queueTypes=STANDARD&queueTypes=AGENT"
	lq.RequestURI = lq.URL.RequestURI()
	lqRec := httptest.NewRecorder()
	s.ServeHTTP(lqRec, lq)
	if lqRec.Code != 200 {
		t.Fatalf("repeated query in wire order: %d %s", lqRec.Code, lqRec.Body)
	}

	// Tamper with a signed body.
	body := `{"InstanceId":"` + DefaultInstanceID + `","ContactId":"x"}`
	req := httptest.NewRequest("POST", "http://connect.sim.local/contact/stop", strings.NewReader(body))
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, good, req, hex.EncodeToString(sum[:]), "connect", "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	req.Body = io.NopCloser(bytes.NewReader([]byte(strings.Replace(body, `"x"`, `"y"`, 1))))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 403 || rec.Header().Get("X-Amzn-ErrorType") != "InvalidSignatureException" {
		t.Fatalf("tampered body: %d %s", rec.Code, rec.Body)
	}

	// Admin endpoints need the bearer token once credentials are configured.
	if s.AdminToken() == "" {
		t.Fatal("no admin token generated")
	}
	r := do(t, s, "GET", "/_sim/stats", "", nil, "", now)
	if r.status != 401 {
		t.Fatalf("admin without token: %d", r.status)
	}
	req = httptest.NewRequest("GET", "http://connect.sim.local/_sim/stats", nil)
	req.Header.Set("Authorization", "Bearer "+s.AdminToken())
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"AKIDGOOD"`) {
		t.Fatalf("admin with token: %d %s", rec.Code, rec.Body)
	}
}

func TestParseAuthorization(t *testing.T) {
	steps := []struct {
		in   string
		key  string
		ok   bool
		call string
	}{
		{"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/connect/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc", "AKID", true, "AKID"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/connect/aws4_request,SignedHeaders=host,Signature=abc", "AKID", true, "AKID"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/aws4_request, SignedHeaders=host, Signature=abc", "", false, "AKID"},
		{"Bearer xyz", "", false, ""},
		{"", "", false, ""},
		{"AWS4-HMAC-SHA256 Credential=/x", "", false, ""},
	}
	for i, st := range steps {
		a, ok := parseAuthorization(st.in)
		if ok != st.ok || a.AccessKeyID != st.key && ok {
			t.Fatalf("step %d: got %v %q want %v %q", i, ok, a.AccessKeyID, st.ok, st.key)
		}
		if got := callerKey(st.in); got != st.call {
			t.Fatalf("step %d: callerKey got %q want %q", i, got, st.call)
		}
	}
}

func TestAdminAPI(t *testing.T) {
	s := newServer(t, Options{})
	post := func(path, body string) rawResp { return do(t, s, "POST", path, body, nil, "", time.Time{}) }
	if r := post("/_sim/quotas", `{"op":"DescribeUser","rate":1,"burst":1,"code":"TooManyRequestsException","retry_after":true}`); r.status != 200 {
		t.Fatalf("quotas: %d %s", r.status, r.rawBody)
	}
	c := newClient(t, s)
	describe := func() error {
		_, err := c.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String(DefaultUserID)})
		return err
	}
	if err := describe(); err != nil {
		t.Fatal(err)
	}
	if code := genericCode(t, describe()); code != "TooManyRequestsException" {
		t.Fatalf("throttle code %s", code)
	}
	for _, bad := range []string{`{"op":"Nope","rate":1,"burst":1}`, `{"op":"DescribeUser","rate":-1,"burst":1}`, `{"op":"DescribeUser","rate":1,"burst":1,"extra":1}`, `not json`} {
		if r := post("/_sim/quotas", bad); r.status != 400 {
			t.Fatalf("bad quota %s: %d", bad, r.status)
		}
	}
	if r := post("/_sim/faults", `{"op":"ListQueues","error_rate":1}`); r.status != 200 {
		t.Fatalf("faults: %d %s", r.status, r.rawBody)
	}
	_, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst})
	asErr[*types.InternalServiceException](t, err)
	if r := do(t, s, "DELETE", "/_sim/faults", "", nil, "", time.Time{}); r.status != 200 {
		t.Fatalf("delete faults: %d", r.status)
	}
	if _, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst}); err != nil {
		t.Fatal(err)
	}
	if r := post("/_sim/faults", `{"op":"ListQueues","error_rate":2}`); r.status != 400 {
		t.Fatalf("bad fault accepted: %d", r.status)
	}
	if r := post("/_sim/resources", `{"name":"users-per-instance","value":6}`); r.status != 200 {
		t.Fatalf("resources: %d %s", r.status, r.rawBody)
	}
	_, err = c.CreateUser(ctx, &connect.CreateUserInput{InstanceId: inst, Username: aws.String("x"), RoutingProfileId: aws.String(DefaultRoutingProfileID), SecurityProfileIds: []string{DefaultSecurityProfileID}})
	asErr[*types.LimitExceededException](t, err)
	if r := post("/_sim/quotas", `{"op":"*","rate":1,"burst":1}`); r.status != 200 {
		t.Fatalf("account ceiling: %d", r.status)
	}
	if _, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListUsers(ctx, &connect.ListUsersInput{InstanceId: inst})
	asErr[*types.ThrottlingException](t, err) // the account ceiling is empty
	r := do(t, s, "GET", "/_sim/info", "", nil, "", time.Time{})
	if r.status != 200 || !strings.Contains(r.rawBody, DefaultInstanceID) {
		t.Fatalf("info: %d", r.status)
	}
	r = do(t, s, "GET", "/_sim/stats?last=60", "", nil, "", time.Time{})
	var st Stats
	if err := json.Unmarshal([]byte(r.rawBody), &st); err != nil || st.Operations["DescribeUser"].ThrottledByCode["TooManyRequestsException"] != 1 || len(st.Timeline) == 0 {
		t.Fatalf("stats: %v %s", err, r.rawBody)
	}
	r = do(t, s, "GET", "/metrics", "", nil, "", time.Time{})
	if r.status != 200 || !strings.Contains(r.rawBody, `tollgate_sim_requests_total{code="TooManyRequestsException",operation="DescribeUser",outcome="throttled"} 1`) {
		t.Fatalf("metrics: %d %s", r.status, r.rawBody)
	}
	if r := post("/_sim/stats/reset", ``); r.status != 200 || s.Stats().Totals.Requests != 0 {
		t.Fatalf("reset: %d", r.status)
	}
}
