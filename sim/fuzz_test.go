package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary method, path and body to the handler: it must
// never panic, always answer with the restJson1 wire format, and keep the
// state consistent (indexes agree, quotas hold, heaps are valid) as
// requests accumulate.
func FuzzDecode(f *testing.F) {
	i := DefaultInstanceID
	seeds := []struct{ m, p, b string }{
		{"PUT", "/contact/outbound-voice", `{"InstanceId":"` + i + `","ContactFlowId":"` + DefaultContactFlowID + `","DestinationPhoneNumber":"+14155550100","ClientToken":"t1"}`},
		{"POST", "/contact/stop", `{"InstanceId":"` + i + `","ContactId":"x"}`},
		{"POST", "/contact/attributes", `{"InstanceId":"` + i + `","InitialContactId":"x","Attributes":{"a":"b"}}`},
		{"PUT", "/contact/chat", `{"InstanceId":"` + i + `","ContactFlowId":"` + DefaultContactFlowID + `","ParticipantDetails":{"DisplayName":"c"}}`},
		{"PUT", "/contact/task", `{"InstanceId":"` + i + `","Name":"t","ContactFlowId":"` + DefaultContactFlowID + `","PreviousContactId":"p"}`},
		{"POST", "/metrics/current/" + i, `{"Filters":{"Queues":["` + DefaultQueueID + `"]},"Groupings":["QUEUE"],"CurrentMetrics":[{"Name":"AGENTS_ONLINE"}]}`},
		{"POST", "/metrics/historical/" + i, `{"StartTime":1700000000,"EndTime":1700003600,"Filters":{"Queues":["q"]},"HistoricalMetrics":[{"Name":"CONTACTS_HANDLED"}]}`},
		{"POST", "/metrics/data", `{"ResourceArn":"` + i + `","StartTime":1700000000,"EndTime":1700003600,"Filters":[{"FilterKey":"QUEUE","FilterValues":["q"]}],"Metrics":[{"Name":"CONTACTS_HANDLED"}],"Groupings":["CHANNEL"]}`},
		{"POST", "/metrics/userdata/" + i, `{"Filters":{"Agents":["` + DefaultUserID + `"]}}`},
		{"GET", "/users-summary/" + i + "?maxResults=2&nextToken=dGcxOjI", ""},
		{"GET", "/users/" + i + "/" + DefaultUserID, ""},
		{"PUT", "/users/" + i, `{"Username":"u1","RoutingProfileId":"` + DefaultRoutingProfileID + `","SecurityProfileIds":["` + DefaultSecurityProfileID + `"]}`},
		{"GET", "/queues-summary/" + i + "?queueTypes=STANDARD", ""},
		{"GET", "/contact-flows-summary/" + i + "?contactFlowTypes=CONTACT_FLOW", ""},
		{"GET", "/agent-status/" + i + "?AgentStatusTypes=ROUTABLE", ""},
		{"GET", "/instance/" + i, ""},
		{"GET", "/instance?maxResults=1", ""},
		{"PUT", "/instance", `{"IdentityManagementType":"CONNECT_MANAGED","InboundCallsEnabled":true,"OutboundCallsEnabled":true,"InstanceAlias":"fz"}`},
		{"POST", "/phone-number/claim", `{"InstanceId":"` + i + `","PhoneNumber":"+14155550199"}`},
		{"POST", "/phone-number/list", `{"PhoneNumberPrefix":"+1"}`},
		{"POST", "/search-users", `{"InstanceId":"` + i + `","SearchCriteria":{"OrConditions":[{"StringCondition":{"FieldName":"Username","Value":"a","ComparisonType":"CONTAINS"}}]}}`},
		{"PUT", "/campaigns/" + DefaultCampaignID + "/dial-requests", `{"dialRequests":[{"clientToken":"a","phoneNumber":"+1","expirationTime":"2099-01-01T00:00:00Z","attributes":{}}]}`},
		{"GET", "/%zz", ""},
		{"POST", "/contact/stop", `{"InstanceId":`},
		{"PUT", "/contact/outbound-voice", "\x00\xff"},
	}
	for _, s := range seeds {
		f.Add(s.m, s.p, s.b)
	}
	s, err := New(Options{RateScale: 1e6})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		u, err := url.ParseRequestURI(path)
		if err != nil || strings.HasPrefix(u.Path, "/_sim") || u.Path == "/metrics" {
			return // not a request an HTTP server would route here / trusted admin API
		}
		req := &http.Request{Method: method, URL: u, Header: http.Header{}, Host: "connect.sim.local",
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), RequestURI: path}
		req = req.WithContext(t.Context())
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %q: response is not a JSON object: %q", method, path, rec.Body.String())
		}
		if rec.Code != 200 {
			code := rec.Header().Get("X-Amzn-ErrorType")
			if want, ok := statusOf[code]; !ok || want != rec.Code {
				t.Fatalf("%s %q: status %d with error type %q", method, path, rec.Code, code)
			}
			if rec.Header().Get("X-Amzn-RequestId") == "" {
				t.Fatalf("no request id")
			}
		}
		if err := s.checkInvariants(); err != nil {
			t.Fatalf("after %s %q %q: %v", method, path, body, err)
		}
	})
}
