package sim

import (
	"strconv"
	"strings"

	"github.com/tollgatehq/tollgate/quotas"
)

type userSummary struct {
	Arn                *string `json:"Arn"`
	Id                 *string `json:"Id"`
	LastModifiedRegion *string `json:"LastModifiedRegion"`
	LastModifiedTime   *epoch  `json:"LastModifiedTime"`
	Username           *string `json:"Username"`
}

func (s *Server) listUsers(rc *reqCtx) (any, *apiError) {
	maxRes, e := rc.queryInt("maxResults")
	if e != nil {
		return nil, e
	}
	q, _ := rc.queryValues()
	var v validator
	v.length("instanceId", rc.labels[0], 1, 100)
	v.intRange("maxResults", maxRes, 1, 1000)
	if e := v.err(rc.valCode); e != nil {
		return nil, e
	}
	inst, unlock, e := s.rlockInstance(rc.labels[0])
	if e != nil {
		return nil, e
	}
	defer unlock()
	users, next, e := pageOf(inst.users, q.Get("nextToken"), maxRes, 100, rc.valCode)
	if e != nil {
		return nil, e
	}
	list := make([]userSummary, 0, len(users))
	for _, u := range users {
		list = append(list, userSummary{Arn: &u.arn, Id: &u.id, LastModifiedRegion: &s.o.Region, LastModifiedTime: ep(u.modified), Username: &u.username})
	}
	return struct {
		UserSummaryList []userSummary
		NextToken       *string `json:"NextToken,omitempty"`
	}{list, next}, nil
}

type identityInfo struct {
	Email     *string `json:"Email,omitempty"`
	FirstName *string `json:"FirstName,omitempty"`
	LastName  *string `json:"LastName,omitempty"`
}

type phoneConfig struct {
	AfterContactWorkTimeLimit int32   `json:"AfterContactWorkTimeLimit"`
	AutoAccept                bool    `json:"AutoAccept"`
	DeskPhoneNumber           *string `json:"DeskPhoneNumber,omitempty"`
	PhoneType                 string  `json:"PhoneType"`
}

type userOut struct {
	Arn                *string           `json:"Arn"`
	DirectoryUserId    *string           `json:"DirectoryUserId,omitempty"`
	HierarchyGroupId   *string           `json:"HierarchyGroupId,omitempty"`
	Id                 *string           `json:"Id"`
	IdentityInfo       *identityInfo     `json:"IdentityInfo,omitempty"`
	LastModifiedRegion *string           `json:"LastModifiedRegion,omitempty"`
	LastModifiedTime   *epoch            `json:"LastModifiedTime,omitempty"`
	PhoneConfig        *phoneConfig      `json:"PhoneConfig,omitempty"`
	RoutingProfileId   *string           `json:"RoutingProfileId"`
	SecurityProfileIds []string          `json:"SecurityProfileIds"`
	Tags               map[string]string `json:"Tags,omitempty"`
	Username           *string           `json:"Username"`
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) userOut(u *user, withModified bool) userOut {
	return makeUserOut(u, s.o.Region, withModified)
}

func makeUserOut(u *user, region string, withModified bool) userOut {
	out := userOut{
		Arn: &u.arn, Id: &u.id, Username: &u.username,
		DirectoryUserId: nonEmpty(u.directory), HierarchyGroupId: nonEmpty(u.hierarchyGroup),
		IdentityInfo:     &identityInfo{Email: nonEmpty(u.email), FirstName: nonEmpty(u.first), LastName: nonEmpty(u.last)},
		PhoneConfig:      &phoneConfig{AfterContactWorkTimeLimit: u.acw, AutoAccept: u.autoAccept, DeskPhoneNumber: nonEmpty(u.deskPhone), PhoneType: u.phoneType},
		RoutingProfileId: &u.routingProfile, SecurityProfileIds: u.securityProfiles, Tags: u.tags,
	}
	if withModified {
		out.LastModifiedRegion = &region
		out.LastModifiedTime = ep(u.modified)
	}
	return out
}

func (s *Server) describeUser(rc *reqCtx) (any, *apiError) {
	var v validator
	v.length("instanceId", rc.labels[0], 1, 100)
	v.length("userId", rc.labels[1], 1, 256)
	if e := v.err(rc.valCode); e != nil {
		return nil, e
	}
	inst, unlock, e := s.rlockInstance(rc.labels[0])
	if e != nil {
		return nil, e
	}
	defer unlock()
	u := inst.userByID[rc.labels[1]]
	if u == nil {
		return nil, errf(codeResourceNotFound, "User not found: "+clip(rc.labels[1]))
	}
	return rawJSON(u.describe), nil
}

type createUserIn struct {
	DirectoryUserId  *string
	HierarchyGroupId *string
	IdentityInfo     *struct {
		Email, FirstName, LastName, Mobile, SecondaryEmail *string
	}
	Password    *string
	PhoneConfig *struct {
		AfterContactWorkTimeLimit *int64
		AutoAccept                *bool
		DeskPhoneNumber           *string
		PhoneType                 *string
	}
	RoutingProfileId   *string
	SecurityProfileIds []string
	Tags               map[string]string
	Username           *string
}

func isUsername(s string) bool { return s != "" && allBytes(s, isAlnum, "_-.@") }

func (s *Server) createUser(rc *reqCtx) (any, *apiError) {
	var in createUserIn
	if e := decodeBody(rc.body, &in); e != nil {
		return nil, e
	}
	var v validator
	v.length("instanceId", rc.labels[0], 1, 100)
	v.required("username", in.Username != nil)
	if in.Username != nil {
		v.length("username", *in.Username, 1, 100)
		v.pattern("username", *in.Username, isUsername(*in.Username), `[a-zA-Z0-9\_\-\.\@]+`)
	}
	v.required("routingProfileId", in.RoutingProfileId != nil)
	v.required("securityProfileIds", in.SecurityProfileIds != nil)
	if in.SecurityProfileIds != nil {
		v.count("securityProfileIds", len(in.SecurityProfileIds), 1, 10)
	}
	if in.IdentityInfo != nil {
		v.optLength("identityInfo.firstName", in.IdentityInfo.FirstName, 0, 100)
		v.optLength("identityInfo.lastName", in.IdentityInfo.LastName, 0, 100)
	}
	if in.PhoneConfig != nil {
		if in.PhoneConfig.PhoneType != nil {
			v.enum("phoneConfig.phoneType", *in.PhoneConfig.PhoneType, []string{"SOFT_PHONE", "DESK_PHONE"})
		}
		if in.PhoneConfig.AfterContactWorkTimeLimit != nil && *in.PhoneConfig.AfterContactWorkTimeLimit < 0 {
			v.intRange("phoneConfig.afterContactWorkTimeLimit", in.PhoneConfig.AfterContactWorkTimeLimit, 0, 1<<31-1)
		}
	}
	v.tags(in.Tags)
	if e := v.err(rc.valCode); e != nil {
		return nil, e
	}
	inst, unlock, e := s.lockInstance(rc.labels[0])
	if e != nil {
		return nil, e
	}
	defer unlock()
	st := s.st
	if inst.usernames[*in.Username] != nil {
		return nil, errf(codeDuplicateResource, "User with username "+*in.Username+" already exists.")
	}
	if e := inst.needResource("routing-profile", *in.RoutingProfileId, "Routing profile"); e != nil {
		return nil, e
	}
	for _, sp := range in.SecurityProfileIds {
		if e := inst.needResource("security-profile", sp, "Security profile"); e != nil {
			return nil, e
		}
	}
	if limit := st.limits[quotas.UsersPerInstance]; len(inst.users) >= limit {
		return nil, errf(codeLimitExceeded, "The allowed limit for the resource has been exceeded: users per instance ("+strconv.Itoa(limit)+").")
	}
	u := &user{id: st.newID(), username: *in.Username, routingProfile: *in.RoutingProfileId,
		securityProfiles: append([]string(nil), in.SecurityProfileIds...), phoneType: "SOFT_PHONE",
		directory: deref(in.DirectoryUserId), hierarchyGroup: deref(in.HierarchyGroupId), modified: rc.now}
	u.tags = copyStrings(in.Tags)
	if in.IdentityInfo != nil {
		u.first, u.last, u.email = deref(in.IdentityInfo.FirstName), deref(in.IdentityInfo.LastName), deref(in.IdentityInfo.Email)
	}
	if pc := in.PhoneConfig; pc != nil {
		if pc.PhoneType != nil {
			u.phoneType = *pc.PhoneType
		}
		if pc.AutoAccept != nil {
			u.autoAccept = *pc.AutoAccept
		}
		if pc.AfterContactWorkTimeLimit != nil {
			u.acw = int32(min(*pc.AfterContactWorkTimeLimit, 1<<31-1))
		}
		u.deskPhone = deref(pc.DeskPhoneNumber)
	}
	inst.addUser(u, st.region)
	return struct {
		UserArn *string
		UserId  *string
	}{&u.arn, &u.id}, nil
}

type userSearchCriteria struct {
	AndConditions   []userSearchCriteria
	OrConditions    []userSearchCriteria
	StringCondition *struct {
		ComparisonType *string
		FieldName      *string
		Value          *string
	}
}

type searchUsersIn struct {
	InstanceId     *string
	MaxResults     *int64
	NextToken      *string
	SearchCriteria *userSearchCriteria
}

// match evaluates a search criteria tree on u; depth bounds recursion.
func (c *userSearchCriteria) match(u *user, depth int) (bool, *apiError) {
	if depth > 10 {
		return false, errf(codeInvalidParameter, "SearchCriteria is nested too deeply.")
	}
	if sc := c.StringCondition; sc != nil {
		var field string
		switch deref(sc.FieldName) {
		case "Username", "username":
			field = u.username
		case "FirstName", "firstname":
			field = u.first
		case "LastName", "lastname":
			field = u.last
		case "ResourceId", "resourceId":
			field = u.id
		default:
			return false, errf(codeInvalidParameter, "Unsupported FieldName in StringCondition: "+clip(deref(sc.FieldName)))
		}
		val := deref(sc.Value)
		ok := false
		switch deref(sc.ComparisonType) {
		case "STARTS_WITH":
			ok = strings.HasPrefix(strings.ToLower(field), strings.ToLower(val))
		case "CONTAINS", "":
			ok = strings.Contains(strings.ToLower(field), strings.ToLower(val))
		case "EXACT":
			ok = field == val
		default:
			return false, errf(codeInvalidParameter, "Unsupported ComparisonType: "+clip(deref(sc.ComparisonType)))
		}
		if !ok {
			return false, nil
		}
	}
	for i := range c.AndConditions {
		ok, e := c.AndConditions[i].match(u, depth+1)
		if e != nil || !ok {
			return false, e
		}
	}
	if len(c.OrConditions) > 0 {
		any := false
		for i := range c.OrConditions {
			ok, e := c.OrConditions[i].match(u, depth+1)
			if e != nil {
				return false, e
			}
			any = any || ok
		}
		if !any {
			return false, nil
		}
	}
	return true, nil
}

func (s *Server) searchUsers(rc *reqCtx) (any, *apiError) {
	var in searchUsersIn
	if e := decodeBody(rc.body, &in); e != nil {
		return nil, e
	}
	var v validator
	v.instanceID(in.InstanceId)
	v.intRange("maxResults", in.MaxResults, 1, 500)
	v.optLength("nextToken", in.NextToken, 1, 2500)
	if e := v.err(rc.valCode); e != nil {
		return nil, e
	}
	inst, unlock, e := s.rlockInstance(*in.InstanceId)
	if e != nil {
		return nil, e
	}
	defer unlock()
	matched := make([]*user, 0, len(inst.users))
	for _, u := range inst.users {
		ok := true
		if in.SearchCriteria != nil {
			var e *apiError
			if ok, e = in.SearchCriteria.match(u, 0); e != nil {
				return nil, e
			}
		}
		if ok {
			matched = append(matched, u)
		}
	}
	users, next, e := pageOf(matched, deref(in.NextToken), in.MaxResults, 100, rc.valCode)
	if e != nil {
		return nil, e
	}
	list := make([]userOut, 0, len(users))
	for _, u := range users {
		list = append(list, s.userOut(u, false))
	}
	total := int64(len(matched))
	return struct {
		ApproximateTotalCount *int64
		NextToken             *string `json:"NextToken,omitempty"`
		Users                 []userOut
	}{&total, next, list}, nil
}

type resourceSummary struct {
	Arn                *string `json:"Arn"`
	Id                 *string `json:"Id"`
	LastModifiedRegion *string `json:"LastModifiedRegion,omitempty"`
	LastModifiedTime   *epoch  `json:"LastModifiedTime,omitempty"`
	Name               *string `json:"Name"`
	QueueType          string  `json:"QueueType,omitempty"`
	Type               string  `json:"Type,omitempty"`
	ContactFlowType    string  `json:"ContactFlowType,omitempty"`
	ContactFlowState   string  `json:"ContactFlowState,omitempty"`
	ContactFlowStatus  string  `json:"ContactFlowStatus,omitempty"`
}

// listResources serves the three List operations over typed resources:
// filter by the repeated type query parameter, then page.
func (s *Server) listResources(rc *reqCtx, typeParam string, maxTypes int, allowed []string, pick func(*instance) []*resource, listKey string, fill func(*resource, *resourceSummary)) (any, *apiError) {
	maxRes, e := rc.queryInt("maxResults")
	if e != nil {
		return nil, e
	}
	q, _ := rc.queryValues()
	types := q[typeParam]
	var v validator
	v.length("instanceId", rc.labels[0], 1, 100)
	v.intRange("maxResults", maxRes, 1, 1000)
	v.count(typeParam, len(types), 0, maxTypes)
	for _, t := range types {
		v.enum(typeParam, t, allowed)
	}
	if e := v.err(rc.valCode); e != nil {
		return nil, e
	}
	inst, unlock, e := s.rlockInstance(rc.labels[0])
	if e != nil {
		return nil, e
	}
	defer unlock()
	all := pick(inst)
	if len(types) > 0 {
		filtered := make([]*resource, 0, len(all))
		for _, r := range all {
			if contains(types, r.typ) {
				filtered = append(filtered, r)
			}
		}
		all = filtered
	}
	all, next, e := pageOf(all, q.Get("nextToken"), maxRes, 100, rc.valCode)
	if e != nil {
		return nil, e
	}
	list := make([]resourceSummary, 0, len(all))
	for _, r := range all {
		sum := resourceSummary{Arn: &r.arn, Id: &r.id, Name: &r.name}
		fill(r, &sum)
		list = append(list, sum)
	}
	return map[string]any{listKey: list, "NextToken": next}, nil
}

func (s *Server) listQueues(rc *reqCtx) (any, *apiError) {
	return s.listResources(rc, "queueTypes", 2, queueTypes, func(in *instance) []*resource { return in.queues }, "QueueSummaryList",
		func(r *resource, out *resourceSummary) {
			out.QueueType, out.LastModifiedRegion, out.LastModifiedTime = r.typ, &s.o.Region, ep(r.modified)
		})
}

func (s *Server) listContactFlows(rc *reqCtx) (any, *apiError) {
	return s.listResources(rc, "contactFlowTypes", 10, contactFlowTypes, func(in *instance) []*resource { return in.flows }, "ContactFlowSummaryList",
		func(r *resource, out *resourceSummary) {
			out.ContactFlowType, out.ContactFlowState, out.ContactFlowStatus = r.typ, "ACTIVE", "PUBLISHED"
		})
}

func (s *Server) listAgentStatuses(rc *reqCtx) (any, *apiError) {
	return s.listResources(rc, "AgentStatusTypes", 3, agentStatusTypes, func(in *instance) []*resource { return in.agentStatuses }, "AgentStatusSummaryList",
		func(r *resource, out *resourceSummary) {
			out.Type, out.LastModifiedRegion, out.LastModifiedTime = r.typ, &s.o.Region, ep(r.modified)
		})
}
