package gateway

import "strings"

// Signing names of the services the gateway fronts.
const (
	ServiceConnect   = "connect"
	ServiceCampaigns = "connect-campaigns"
)

// route is one operation's HTTP binding. Segments in braces are labels.
type route struct {
	op, method, path, service string
	segs                      []string
}

// routes are the restJson1 bindings the gateway recognises (botocore and
// aws-sdk-go-v2 models). A request matching none is forwarded as operation
// "" (account budget only) and only to callers allowed "*".
var routes = func() []route {
	rs := []route{
		{"StartOutboundVoiceContact", "PUT", "/contact/outbound-voice", ServiceConnect, nil},
		{"StopContact", "POST", "/contact/stop", ServiceConnect, nil},
		{"UpdateContactAttributes", "POST", "/contact/attributes", ServiceConnect, nil},
		{"GetContactAttributes", "GET", "/contact/attributes/{InstanceId}/{InitialContactId}", ServiceConnect, nil},
		{"StartChatContact", "PUT", "/contact/chat", ServiceConnect, nil},
		{"StartTaskContact", "PUT", "/contact/task", ServiceConnect, nil},
		{"DescribeContact", "GET", "/contacts/{InstanceId}/{ContactId}", ServiceConnect, nil},
		{"UpdateContact", "POST", "/contacts/{InstanceId}/{ContactId}", ServiceConnect, nil},
		{"GetCurrentMetricData", "POST", "/metrics/current/{InstanceId}", ServiceConnect, nil},
		{"GetMetricDataV2", "POST", "/metrics/data", ServiceConnect, nil},
		{"GetMetricData", "POST", "/metrics/historical/{InstanceId}", ServiceConnect, nil},
		{"GetCurrentUserData", "POST", "/metrics/userdata/{InstanceId}", ServiceConnect, nil},
		{"ListUsers", "GET", "/users-summary/{InstanceId}", ServiceConnect, nil},
		{"DescribeUser", "GET", "/users/{InstanceId}/{UserId}", ServiceConnect, nil},
		{"CreateUser", "PUT", "/users/{InstanceId}", ServiceConnect, nil},
		{"SearchUsers", "POST", "/search-users", ServiceConnect, nil},
		{"ListQueues", "GET", "/queues-summary/{InstanceId}", ServiceConnect, nil},
		{"ListContactFlows", "GET", "/contact-flows-summary/{InstanceId}", ServiceConnect, nil},
		{"ListAgentStatuses", "GET", "/agent-status/{InstanceId}", ServiceConnect, nil},
		{"DescribeInstance", "GET", "/instance/{InstanceId}", ServiceConnect, nil},
		{"DeleteInstance", "DELETE", "/instance/{InstanceId}", ServiceConnect, nil},
		{"ListInstances", "GET", "/instance", ServiceConnect, nil},
		{"CreateInstance", "PUT", "/instance", ServiceConnect, nil},
		{"ClaimPhoneNumber", "POST", "/phone-number/claim", ServiceConnect, nil},
		{"ListPhoneNumbersV2", "POST", "/phone-number/list", ServiceConnect, nil},
		{"ListTagsForResource", "GET", "/tags/{resourceArn}", ServiceConnect, nil},
		{"TagResource", "POST", "/tags/{resourceArn}", ServiceConnect, nil},
		{"UntagResource", "DELETE", "/tags/{resourceArn}", ServiceConnect, nil},
		{"PutDialRequestBatch", "PUT", "/campaigns/{id}/dial-requests", ServiceCampaigns, nil},
		{"PutOutboundRequestBatch", "PUT", "/v2/campaigns/{id}/outbound-requests", ServiceCampaigns, nil},
	}
	for i := range rs {
		rs[i].segs = strings.Split(rs[i].path[1:], "/")
	}
	return rs
}()

// match returns the operation and signing name of a request by method and
// wire path ("" and false when no binding matches).
func match(method, path string) (op, service string, ok bool) {
	if len(path) < 2 || path[0] != '/' {
		return "", "", false
	}
	segs := strings.Split(path[1:], "/")
	for i := range routes {
		r := &routes[i]
		if r.method != method || len(r.segs) != len(segs) {
			continue
		}
		hit := true
		for j, s := range r.segs {
			if strings.HasPrefix(s, "{") {
				if segs[j] == "" {
					hit = false
					break
				}
				continue
			}
			if s != segs[j] {
				hit = false
				break
			}
		}
		if hit {
			return r.op, r.service, true
		}
	}
	return "", "", false
}
