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
	numOps
	opUnknown = numOps // stats slot for unrouted requests
)

// opDef describes one operation: its name, HTTP binding, service and the
// error code its input validation answers with.
type opDef struct {
	name      string
	method    string
	uri       string // for docs and the admin listing
	campaigns bool   // Outbound Campaigns (connect-campaigns): lower-case "message", ValidationException
	valCode   string // code of constraint violations
	handle    func(s *Server, rc *reqCtx) (any, *apiError)
}

// ops is the operation table (reference §1 bindings).
var ops = [numOps]opDef{
	opStartOutboundVoiceContact: {"StartOutboundVoiceContact", "PUT", "/contact/outbound-voice", false, codeInvalidParameter, (*Server).startOutboundVoiceContact},
	opStopContact:               {"StopContact", "POST", "/contact/stop", false, codeInvalidParameter, (*Server).stopContact},
	opGetCurrentMetricData:      {"GetCurrentMetricData", "POST", "/metrics/current/{InstanceId}", false, codeInvalidParameter, (*Server).getCurrentMetricData},
	opGetMetricDataV2:           {"GetMetricDataV2", "POST", "/metrics/data", false, codeInvalidParameter, (*Server).getMetricDataV2},
	opGetMetricData:             {"GetMetricData", "POST", "/metrics/historical/{InstanceId}", false, codeInvalidParameter, (*Server).getMetricData},
	opGetCurrentUserData:        {"GetCurrentUserData", "POST", "/metrics/userdata/{InstanceId}", false, codeInvalidParameter, (*Server).getCurrentUserData},
	opListUsers:                 {"ListUsers", "GET", "/users-summary/{InstanceId}", false, codeInvalidParameter, (*Server).listUsers},
	opDescribeUser:              {"DescribeUser", "GET", "/users/{InstanceId}/{UserId}", false, codeInvalidParameter, (*Server).describeUser},
	opListQueues:                {"ListQueues", "GET", "/queues-summary/{InstanceId}", false, codeInvalidParameter, (*Server).listQueues},
	opListContactFlows:          {"ListContactFlows", "GET", "/contact-flows-summary/{InstanceId}", false, codeInvalidParameter, (*Server).listContactFlows},
	opDescribeInstance:          {"DescribeInstance", "GET", "/instance/{InstanceId}", false, codeInvalidRequest, (*Server).describeInstance},
	opListInstances:             {"ListInstances", "GET", "/instance", false, codeInvalidRequest, (*Server).listInstances},
	opCreateInstance:            {"CreateInstance", "PUT", "/instance", false, codeInvalidRequest, (*Server).createInstance},
	opClaimPhoneNumber:          {"ClaimPhoneNumber", "POST", "/phone-number/claim", false, codeInvalidParameter, (*Server).claimPhoneNumber},
	opListPhoneNumbersV2:        {"ListPhoneNumbersV2", "POST", "/phone-number/list", false, codeInvalidParameter, (*Server).listPhoneNumbersV2},
	opUpdateContactAttributes:   {"UpdateContactAttributes", "POST", "/contact/attributes", false, codeInvalidParameter, (*Server).updateContactAttributes},
	opStartChatContact:          {"StartChatContact", "PUT", "/contact/chat", false, codeInvalidParameter, (*Server).startChatContact},
	opStartTaskContact:          {"StartTaskContact", "PUT", "/contact/task", false, codeInvalidParameter, (*Server).startTaskContact},
	opCreateUser:                {"CreateUser", "PUT", "/users/{InstanceId}", false, codeInvalidParameter, (*Server).createUser},
	opListAgentStatuses:         {"ListAgentStatuses", "GET", "/agent-status/{InstanceId}", false, codeInvalidParameter, (*Server).listAgentStatuses},
	opSearchUsers:               {"SearchUsers", "POST", "/search-users", false, codeInvalidParameter, (*Server).searchUsers},
	opPutDialRequestBatch:       {"PutDialRequestBatch", "PUT", "/campaigns/{id}/dial-requests", true, codeValidation, (*Server).putDialRequestBatch},
	opDescribeInstanceAttribute: {"DescribeInstanceAttribute", "GET", "/instance/{InstanceId}/attribute/{AttributeType}", false, codeInvalidRequest, (*Server).describeInstanceAttribute},
	opListInstanceAttributes:    {"ListInstanceAttributes", "GET", "/instance/{InstanceId}/attributes", false, codeInvalidRequest, (*Server).listInstanceAttributes},
	opUpdateInstanceAttribute:   {"UpdateInstanceAttribute", "POST", "/instance/{InstanceId}/attribute/{AttributeType}", false, codeInvalidRequest, (*Server).updateInstanceAttribute},
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

// route maps method and escaped path to an operation and its path labels.
// It does not allocate for label-free paths.
func route(method, path string) (op opID, labels [2]string, ok bool) {
	if len(path) < 2 || path[0] != '/' {
		return opUnknown, labels, false
	}
	var seg [4]string
	n := 0
	rest := path[1:]
	for {
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
	label := func(i int) (string, bool) {
		v := seg[i]
		if v == "" {
			return "", false
		}
		if strings.IndexByte(v, '%') >= 0 {
			u, err := url.PathUnescape(v)
			if err != nil || u == "" {
				return "", false
			}
			v = u
		}
		return v, true
	}
	op = opUnknown
	switch seg[0] {
	case "contact":
		if n == 2 {
			switch seg[1] {
			case "outbound-voice":
				op = opStartOutboundVoiceContact
			case "stop":
				op = opStopContact
			case "attributes":
				op = opUpdateContactAttributes
			case "chat":
				op = opStartChatContact
			case "task":
				op = opStartTaskContact
			}
		}
	case "metrics":
		switch {
		case n == 2 && seg[1] == "data":
			op = opGetMetricDataV2
		case n == 3 && seg[1] == "current":
			op = opGetCurrentMetricData
		case n == 3 && seg[1] == "historical":
			op = opGetMetricData
		case n == 3 && seg[1] == "userdata":
			op = opGetCurrentUserData
		}
		if n == 3 && op != opUnknown {
			if labels[0], ok = label(2); !ok {
				return opUnknown, labels, false
			}
		}
	case "users-summary", "queues-summary", "contact-flows-summary", "agent-status":
		if n == 2 {
			switch seg[0] {
			case "users-summary":
				op = opListUsers
			case "queues-summary":
				op = opListQueues
			case "contact-flows-summary":
				op = opListContactFlows
			default:
				op = opListAgentStatuses
			}
			if labels[0], ok = label(1); !ok {
				return opUnknown, labels, false
			}
		}
	case "users":
		switch {
		case n == 3 && method == "GET":
			op = opDescribeUser
			if labels[0], ok = label(1); !ok {
				return opUnknown, labels, false
			}
			if labels[1], ok = label(2); !ok {
				return opUnknown, labels, false
			}
		case n == 2 && method == "PUT":
			op = opCreateUser
			if labels[0], ok = label(1); !ok {
				return opUnknown, labels, false
			}
		}
	case "instance":
		switch {
		case n == 1 && method == "GET":
			op = opListInstances
		case n == 1 && method == "PUT":
			op = opCreateInstance
		case n == 2 && method == "GET":
			op = opDescribeInstance
			if labels[0], ok = label(1); !ok {
				return opUnknown, labels, false
			}
		case n >= 3:
			op, labels, ok = routeInstanceAttribute(method, seg[2], n, label)
			if !ok {
				return opUnknown, labels, false
			}
		}
	case "phone-number":
		if n == 2 && seg[1] == "claim" {
			op = opClaimPhoneNumber
		} else if n == 2 && seg[1] == "list" {
			op = opListPhoneNumbersV2
		}
	case "search-users":
		if n == 1 {
			op = opSearchUsers
		}
	case "campaigns":
		if n == 3 && seg[2] == "dial-requests" {
			op = opPutDialRequestBatch
			if labels[0], ok = label(1); !ok {
				return opUnknown, labels, false
			}
		}
	}
	if op == opUnknown || ops[op].method != method {
		return opUnknown, labels, false
	}
	return op, labels, true
}
