package sim

import (
	"net/url"
	"strings"
)

// opID indexes the operations the simulator serves.
type opID int

const (
	opStartOutboundVoiceContact opID = iota
	opStopContact
	opGetCurrentMetricData
	opGetMetricDataV2
	opGetMetricData
	opGetCurrentUserData
	opListUsers
	opDescribeUser
	opListQueues
	opListContactFlows
	opDescribeInstance
	opListInstances
	opCreateInstance
	opClaimPhoneNumber
	opListPhoneNumbersV2
	opUpdateContactAttributes
	opStartChatContact
	opStartTaskContact
	opCreateUser
	opListAgentStatuses
	opSearchUsers
	opPutDialRequestBatch
	opDescribeInstanceAttribute
	opListInstanceAttributes
	opUpdateInstanceAttribute
	opDescribeContact
	numOps
	opUnknown = numOps // stats slot for unrouted requests
)

// opDef describes one operation: its name, HTTP binding (the route comes
// from method and uri), service, the error code its input validation
// answers with, and its handler (reads or writes around the operation's own
// function; see opening.go).
type opDef struct {
	name      string
	method    string
	uri       string // template: literal segments and {Label}s
	campaigns bool   // Outbound Campaigns (connect-campaigns): lower-case "message", ValidationException
	valCode   string // code of constraint violations
	handle    handler
}

// ops is the operation table (reference §1 bindings).
var ops = [numOps]opDef{
	opStartOutboundVoiceContact: {"StartOutboundVoiceContact", "PUT", "/contact/outbound-voice", false, codeInvalidParameter, writes((*Server).startOutboundVoiceContact)},
	opStopContact:               {"StopContact", "POST", "/contact/stop", false, codeInvalidParameter, writes((*Server).stopContact)},
	opGetCurrentMetricData:      {"GetCurrentMetricData", "POST", "/metrics/current/{InstanceId}", false, codeInvalidParameter, writes((*Server).getCurrentMetricData)},
	opGetMetricDataV2:           {"GetMetricDataV2", "POST", "/metrics/data", false, codeInvalidParameter, writes((*Server).getMetricDataV2)},
	opGetMetricData:             {"GetMetricData", "POST", "/metrics/historical/{InstanceId}", false, codeInvalidParameter, writes((*Server).getMetricData)},
	opGetCurrentUserData:        {"GetCurrentUserData", "POST", "/metrics/userdata/{InstanceId}", false, codeInvalidParameter, reads((*Server).getCurrentUserData)},
	opListUsers:                 {"ListUsers", "GET", "/users-summary/{InstanceId}", false, codeInvalidParameter, reads((*Server).listUsers)},
	opDescribeUser:              {"DescribeUser", "GET", "/users/{InstanceId}/{UserId}", false, codeInvalidParameter, reads((*Server).describeUser)},
	opListQueues:                {"ListQueues", "GET", "/queues-summary/{InstanceId}", false, codeInvalidParameter, reads((*Server).listQueues)},
	opListContactFlows:          {"ListContactFlows", "GET", "/contact-flows-summary/{InstanceId}", false, codeInvalidParameter, reads((*Server).listContactFlows)},
	opDescribeInstance:          {"DescribeInstance", "GET", "/instance/{InstanceId}", false, codeInvalidRequest, reads((*Server).describeInstance)},
	opListInstances:             {"ListInstances", "GET", "/instance", false, codeInvalidRequest, reads((*Server).listInstances)},
	opCreateInstance:            {"CreateInstance", "PUT", "/instance", false, codeInvalidRequest, writes((*Server).createInstance)},
	opClaimPhoneNumber:          {"ClaimPhoneNumber", "POST", "/phone-number/claim", false, codeInvalidParameter, writes((*Server).claimPhoneNumber)},
	opListPhoneNumbersV2:        {"ListPhoneNumbersV2", "POST", "/phone-number/list", false, codeInvalidParameter, reads((*Server).listPhoneNumbersV2)},
	opUpdateContactAttributes:   {"UpdateContactAttributes", "POST", "/contact/attributes", false, codeInvalidParameter, writes((*Server).updateContactAttributes)},
	opStartChatContact:          {"StartChatContact", "PUT", "/contact/chat", false, codeInvalidParameter, writes((*Server).startChatContact)},
	opStartTaskContact:          {"StartTaskContact", "PUT", "/contact/task", false, codeInvalidParameter, writes((*Server).startTaskContact)},
	opCreateUser:                {"CreateUser", "PUT", "/users/{InstanceId}", false, codeInvalidParameter, writes((*Server).createUser)},
	opListAgentStatuses:         {"ListAgentStatuses", "GET", "/agent-status/{InstanceId}", false, codeInvalidParameter, reads((*Server).listAgentStatuses)},
	opSearchUsers:               {"SearchUsers", "POST", "/search-users", false, codeInvalidParameter, reads((*Server).searchUsers)},
	opPutDialRequestBatch:       {"PutDialRequestBatch", "PUT", "/campaigns/{id}/dial-requests", true, codeValidation, writes((*Server).putDialRequestBatch)},
	opDescribeInstanceAttribute: {"DescribeInstanceAttribute", "GET", "/instance/{InstanceId}/attribute/{AttributeType}", false, codeInvalidRequest, reads((*Server).describeInstanceAttribute)},
	opListInstanceAttributes:    {"ListInstanceAttributes", "GET", "/instance/{InstanceId}/attributes", false, codeInvalidRequest, reads((*Server).listInstanceAttributes)},
	opUpdateInstanceAttribute:   {"UpdateInstanceAttribute", "POST", "/instance/{InstanceId}/attribute/{AttributeType}", false, codeInvalidRequest, writes((*Server).updateInstanceAttribute)},
	opDescribeContact:           {"DescribeContact", "GET", "/contacts/{InstanceId}/{ContactId}", false, codeInvalidParameter, reads((*Server).describeContact)},
}

// opByName maps operation names to ids; built in init to keep the
// initialization order simple.
var opByName map[string]opID

func init() {
	opByName = make(map[string]opID, numOps)
	for i := range ops {
		opByName[ops[i].name] = opID(i)
	}
}

// Operations returns the names of the operations the simulator serves.
func Operations() []string {
	out := make([]string, 0, numOps)
	for i := range ops {
		out = append(out, ops[i].name)
	}
	return out
}

// maxSegments bounds the path segments of a routed request.
const maxSegments = 4

// routeEntry is one operation's URI template split into segments; a label
// segment ({InstanceId}) is "".
type routeEntry struct {
	op   opID
	segs []string
}

// routes indexes the templates of ops by their first segment; built in init
// from the operation table, so adding a row to ops adds its route.
var routes map[string][]routeEntry

func init() {
	routes = map[string][]routeEntry{}
	for i := range ops {
		segs := strings.Split(strings.TrimPrefix(ops[i].uri, "/"), "/")
		labels := 0
		for j, sg := range segs {
			if strings.HasPrefix(sg, "{") {
				segs[j] = ""
				labels++
			}
		}
		if segs[0] == "" || len(segs) > maxSegments || labels > 2 {
			panic("sim: bad URI template " + ops[i].uri)
		}
		routes[segs[0]] = append(routes[segs[0]], routeEntry{op: opID(i), segs: segs})
	}
}

// route maps method and escaped path to an operation and its path labels
// (unescaped, in template order). It does not allocate for label-free
// paths.
func route(method, path string) (op opID, labels [2]string, ok bool) {
	if len(path) < 2 || path[0] != '/' {
		return opUnknown, labels, false
	}
	var seg [maxSegments]string
	n := 0
	for rest := path[1:]; ; {
		if n == len(seg) {
			return opUnknown, labels, false
		}
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			seg[n] = rest
			n++
			break
		}
		seg[n] = rest[:i]
		n++
		rest = rest[i+1:]
	}
	for _, r := range routes[seg[0]] {
		if len(r.segs) != n || ops[r.op].method != method || !r.matches(seg[:n]) {
			continue
		}
		nl := 0
		for j, t := range r.segs {
			if t != "" {
				continue
			}
			v, ok := unescapeLabel(seg[j])
			if !ok {
				return opUnknown, labels, false
			}
			labels[nl] = v
			nl++
		}
		return r.op, labels, true
	}
	return opUnknown, labels, false
}

// matches reports whether the literal segments of r equal seg's.
func (r routeEntry) matches(seg []string) bool {
	for j, t := range r.segs {
		if t != "" && t != seg[j] {
			return false
		}
	}
	return true
}

// unescapeLabel decodes one path label; an empty label does not match.
func unescapeLabel(v string) (string, bool) {
	if v == "" {
		return "", false
	}
	if strings.IndexByte(v, '%') < 0 {
		return v, true
	}
	u, err := url.PathUnescape(v)
	if err != nil || u == "" {
		return "", false
	}
	return u, true
}
