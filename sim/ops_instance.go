package sim

import (
	"strconv"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
)

type instanceOut struct {
	Arn                    *string           `json:"Arn"`
	CreatedTime            *epoch            `json:"CreatedTime"`
	Id                     *string           `json:"Id"`
	IdentityManagementType string            `json:"IdentityManagementType"`
	InboundCallsEnabled    *bool             `json:"InboundCallsEnabled"`
	InstanceAccessUrl      *string           `json:"InstanceAccessUrl"`
	InstanceAlias          *string           `json:"InstanceAlias,omitempty"`
	InstanceStatus         string            `json:"InstanceStatus"`
	OutboundCallsEnabled   *bool             `json:"OutboundCallsEnabled"`
	ServiceRole            *string           `json:"ServiceRole"`
	Tags                   map[string]string `json:"Tags,omitempty"`
}

func (s *Server) instanceOut(in *instance) instanceOut {
	url := "https://" + in.alias + ".my.connect.aws"
	role := "arn:aws:iam::" + s.o.AccountID + ":role/aws-service-role/connect.amazonaws.com/AWSServiceRoleForAmazonConnect_" + strings.ReplaceAll(in.id[:8], "-", "")
	inb, outb := in.inbound, in.outbound
	return instanceOut{
		Arn: &in.arn, CreatedTime: ep(in.created), Id: &in.id, IdentityManagementType: in.identity,
		InboundCallsEnabled: &inb, OutboundCallsEnabled: &outb, InstanceAccessUrl: &url,
		InstanceAlias: &in.alias, InstanceStatus: "ACTIVE", ServiceRole: &role,
	}
}

type describeInstanceIn struct{ pathInstance }

func (in *describeInstanceIn) validate(v *validator, rc *reqCtx) *apiError {
	in.validateInstance(v, rc)
	return nil
}

func (s *Server) describeInstance(_ *reqCtx, _ *describeInstanceIn, inst *instance) (any, *apiError) {
	return struct{ Instance instanceOut }{s.instanceOut(inst)}, nil
}

type listInstancesIn struct{ queryPage }

func (in *listInstancesIn) validate(v *validator, rc *reqCtx) *apiError {
	return in.parse(v, rc, 10)
}

func (s *Server) listInstances(rc *reqCtx, in *listInstancesIn, _ *instance) (any, *apiError) {
	ids, next, e := pageOf(s.st.instanceOrder, in.nextToken, in.maxResults, 10, rc)
	if e != nil {
		return nil, e
	}
	list := make([]instanceOut, 0, len(ids))
	for _, id := range ids {
		list = append(list, s.instanceOut(s.st.instances[id]))
	}
	return struct {
		InstanceSummaryList []instanceOut
		NextToken           *string `json:"NextToken,omitempty"`
	}{list, next}, nil
}

type createInstanceIn struct {
	bodyClientToken
	DirectoryId            *string
	IdentityManagementType *string
	InboundCallsEnabled    *bool
	InstanceAlias          *string
	OutboundCallsEnabled   *bool
	Tags                   map[string]string
}

// isAlias matches ^(?!d-)([\da-zA-Z]+)([-]*[\da-zA-Z])*$.
func isAlias(s string) bool {
	if s == "" || strings.HasPrefix(s, "d-") || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	return allBytes(s, isAlnum, "-")
}

func (in *createInstanceIn) validate(v *validator, _ *reqCtx) *apiError {
	v.required("identityManagementType", in.IdentityManagementType != nil)
	v.optEnum("identityManagementType", in.IdentityManagementType, directoryTypes)
	v.required("inboundCallsEnabled", in.InboundCallsEnabled != nil)
	v.required("outboundCallsEnabled", in.OutboundCallsEnabled != nil)
	in.validateClientToken(v)
	if in.InstanceAlias != nil {
		v.length("instanceAlias", *in.InstanceAlias, 1, 45)
		v.pattern("instanceAlias", *in.InstanceAlias, isAlias(*in.InstanceAlias), `^(?!d-)([\da-zA-Z]+)([-]*[\da-zA-Z])*$`)
	}
	v.optLength("directoryId", in.DirectoryId, 12, 12)
	v.tags(in.Tags)
	return nil
}

func (in *createInstanceIn) check() *apiError {
	if *in.IdentityManagementType == "EXISTING_DIRECTORY" && deref(in.DirectoryId) == "" {
		return errf(codeInvalidRequest, "DirectoryId is required when IdentityManagementType is EXISTING_DIRECTORY.")
	}
	if *in.IdentityManagementType != "EXISTING_DIRECTORY" && deref(in.InstanceAlias) == "" {
		return errf(codeInvalidRequest, "InstanceAlias is required when IdentityManagementType is "+*in.IdentityManagementType+".")
	}
	return nil
}

func (in *createInstanceIn) replay(s *Server, id string) (any, *apiError, bool) {
	inst := s.st.instances[id]
	if inst == nil {
		return nil, nil, false
	}
	return struct{ Arn, Id *string }{&inst.arn, &inst.id}, nil, true
}

func (s *Server) createInstance(rc *reqCtx, in *createInstanceIn, _ *instance) (any, *apiError) {
	st := s.st
	alias := deref(in.InstanceAlias)
	for _, other := range st.instances {
		if alias != "" && strings.EqualFold(other.alias, alias) {
			return nil, errf(codeInvalidRequest, "The alias "+alias+" is already in use.")
		}
	}
	if limit := st.limits[quotas.InstancesPerAccount]; len(st.instances) >= limit {
		return nil, errf(codeServiceQuotaExceeded, "The service quota has been exceeded: Amazon Connect instances per account ("+strconv.Itoa(limit)+").")
	}
	inst := st.addInstance("", alias, *in.IdentityManagementType, *in.InboundCallsEnabled, *in.OutboundCallsEnabled, rc.now)
	st.provisionDefaults(inst, rc.now)
	st.remember(rc.tokenKey, inst.id, rc.now)
	return struct{ Arn, Id *string }{&inst.arn, &inst.id}, nil
}

// provisionDefaults gives a new instance what Connect creates with one: a
// queue, flows, a routing profile, security profiles and agent statuses;
// requires mu held.
func (st *state) provisionDefaults(in *instance, now time.Time) {
	add := func(kind, name, typ string) *resource {
		id := st.newID()
		r := &resource{id: id, arn: in.arn + "/" + kind + "/" + id, name: name, typ: typ, kind: kind, modified: now}
		in.byID[id] = r
		return r
	}
	in.queues = []*resource{add("queue", "BasicQueue", "STANDARD")}
	in.flows = []*resource{add("contact-flow", "Default outbound", "CONTACT_FLOW"), add("contact-flow", "Default customer queue", "CUSTOMER_QUEUE")}
	in.routingProfiles = []*resource{add("routing-profile", "Basic Routing Profile", "")}
	in.securityProfiles = []*resource{add("security-profile", "Agent", ""), add("security-profile", "Admin", "")}
	in.agentStatuses = []*resource{add("agent-state", "Available", "ROUTABLE"), add("agent-state", "Offline", "OFFLINE")}
}

type claimPhoneNumberIn struct {
	bodyClientToken
	InstanceId             *string
	PhoneNumber            *string
	PhoneNumberDescription *string
	Tags                   map[string]string
	TargetArn              *string
}

func (in *claimPhoneNumberIn) validate(v *validator, _ *reqCtx) *apiError {
	v.required("phoneNumber", in.PhoneNumber != nil)
	if in.PhoneNumber != nil {
		v.pattern("phoneNumber", *in.PhoneNumber, isE164(*in.PhoneNumber), `\\+[1-9]\\d{1,14}$`)
	}
	in.validateClientToken(v)
	v.optLength("instanceId", in.InstanceId, 1, 100)
	v.optLength("phoneNumberDescription", in.PhoneNumberDescription, 0, 500)
	v.tags(in.Tags)
	return nil
}

// target is the instance the number is claimed for: InstanceId, else
// TargetArn.
func (in *claimPhoneNumberIn) target() string {
	if t := deref(in.InstanceId); t != "" {
		return t
	}
	return deref(in.TargetArn)
}

func (in *claimPhoneNumberIn) check() *apiError {
	if in.target() == "" {
		return errf(codeInvalidParameter, "Either InstanceId or TargetArn is required.")
	}
	return nil
}

func (in *claimPhoneNumberIn) replay(s *Server, id string) (any, *apiError, bool) {
	for _, other := range s.st.instances {
		if p := other.phoneByID[id]; p != nil {
			if p.number != *in.PhoneNumber {
				return nil, errf(codeIdempotency, "An entity with the same ClientToken was claimed with different parameters."), true
			}
			return struct{ PhoneNumberArn, PhoneNumberId *string }{&p.arn, &p.id}, nil, true
		}
	}
	return nil, nil, false
}

func (s *Server) claimPhoneNumber(rc *reqCtx, in *claimPhoneNumberIn, _ *instance) (any, *apiError) {
	st := s.st
	target := in.target()
	inst := st.instance(target)
	if inst == nil {
		return nil, errf(codeResourceNotFound, "Target not found: "+clip(target))
	}
	for _, other := range st.instances {
		if other.phoneByNum[*in.PhoneNumber] != nil {
			return nil, errf(codeInvalidParameter, "Phone number "+*in.PhoneNumber+" is not available to claim.")
		}
	}
	// ClaimPhoneNumber models no quota error; the simulator sends the
	// generic ServiceQuotaExceededException (402) real Connect uses for
	// resource quotas.
	if limit := st.limits[quotas.PhoneNumbersPerInstance]; len(inst.phones) >= limit {
		return nil, errf(codeServiceQuotaExceeded, "The service quota has been exceeded: phone numbers per instance ("+strconv.Itoa(limit)+").")
	}
	id := st.newID()
	p := &phone{id: id, arn: st.phoneARN(id), number: *in.PhoneNumber, typ: "DID", country: countryOf(*in.PhoneNumber), desc: deref(in.PhoneNumberDescription)}
	inst.addPhone(p)
	st.remember(rc.tokenKey, id, rc.now)
	return struct{ PhoneNumberArn, PhoneNumberId *string }{&p.arn, &p.id}, nil
}

type listPhoneNumbersV2In struct {
	InstanceId              *string
	MaxResults              *int64
	NextToken               *string
	PhoneNumberCountryCodes []string
	PhoneNumberPrefix       *string
	PhoneNumberTypes        []string
	TargetArn               *string
}

type phoneSummary struct {
	InstanceId             *string `json:"InstanceId"`
	PhoneNumber            *string `json:"PhoneNumber"`
	PhoneNumberArn         *string `json:"PhoneNumberArn"`
	PhoneNumberCountryCode string  `json:"PhoneNumberCountryCode"`
	PhoneNumberDescription *string `json:"PhoneNumberDescription,omitempty"`
	PhoneNumberId          *string `json:"PhoneNumberId"`
	PhoneNumberType        string  `json:"PhoneNumberType"`
	TargetArn              *string `json:"TargetArn"`
}

func isPrefix(s string) bool {
	if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	return len(s) >= 1 && len(s) <= 18 && allBytes(s, isDigit, "")
}

func (in *listPhoneNumbersV2In) validate(v *validator, _ *reqCtx) *apiError {
	v.optLength("instanceId", in.InstanceId, 1, 100)
	v.intRange("maxResults", in.MaxResults, 1, 1000)
	v.optLength("nextToken", in.NextToken, 0, 100000)
	v.count("phoneNumberCountryCodes", len(in.PhoneNumberCountryCodes), 0, 10)
	v.count("phoneNumberTypes", len(in.PhoneNumberTypes), 0, 6)
	for _, t := range in.PhoneNumberTypes {
		v.enum("phoneNumberTypes", t, phoneNumberTypes)
	}
	if in.PhoneNumberPrefix != nil {
		v.pattern("phoneNumberPrefix", *in.PhoneNumberPrefix, isPrefix(*in.PhoneNumberPrefix), `\\+?[0-9]{1,18}`)
	}
	return nil
}

func (s *Server) listPhoneNumbersV2(rc *reqCtx, in *listPhoneNumbersV2In, _ *instance) (any, *apiError) {
	var insts []*instance
	if target := deref(in.InstanceId) + deref(in.TargetArn); target != "" {
		if deref(in.InstanceId) != "" {
			target = *in.InstanceId
		}
		inst := s.st.instance(target)
		if inst == nil {
			return nil, errf(codeResourceNotFound, "Target not found: "+clip(target))
		}
		insts = []*instance{inst}
	} else {
		for _, id := range s.st.instanceOrder {
			insts = append(insts, s.st.instances[id])
		}
	}
	prefix := strings.TrimPrefix(deref(in.PhoneNumberPrefix), "+")
	var list []phoneSummary
	for _, inst := range insts {
		for _, p := range inst.phones {
			if len(in.PhoneNumberCountryCodes) > 0 && !contains(in.PhoneNumberCountryCodes, p.country) {
				continue
			}
			if len(in.PhoneNumberTypes) > 0 && !contains(in.PhoneNumberTypes, p.typ) {
				continue
			}
			if prefix != "" && !strings.HasPrefix(p.number[1:], prefix) {
				continue
			}
			list = append(list, phoneSummary{InstanceId: &inst.id, PhoneNumber: &p.number, PhoneNumberArn: &p.arn,
				PhoneNumberCountryCode: p.country, PhoneNumberDescription: nonEmpty(p.desc), PhoneNumberId: &p.id,
				PhoneNumberType: p.typ, TargetArn: &inst.arn})
		}
	}
	list, next, e := pageOf(list, deref(in.NextToken), in.MaxResults, 100, rc)
	if e != nil {
		return nil, e
	}
	return struct {
		ListPhoneNumbersSummaryList []phoneSummary
		NextToken                   *string `json:"NextToken,omitempty"`
	}{append([]phoneSummary{}, list...), next}, nil
}
