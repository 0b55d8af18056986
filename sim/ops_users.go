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

type listUsersIn struct {
	pathInstance
	queryPage
}

func (in *listUsersIn) validate(v *validator, rc *reqCtx) *apiError {
	in.validateInstance(v, rc)
	return in.parse(v, rc, 1000)
}

func (s *Server) listUsers(rc *reqCtx, in *listUsersIn, inst *instance) (any, *apiError) {
	users, next, e := pageOf(inst.users, in.nextToken, in.maxResults, 100, rc)
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

type describeUserIn struct{ pathInstance }

func (in *describeUserIn) validate(v *validator, rc *reqCtx) *apiError {
	in.validateInstance(v, rc)
	v.length("userId", rc.labels[1], 1, 256)
	return nil
}

func (s *Server) describeUser(rc *reqCtx, _ *describeUserIn, inst *instance) (any, *apiError) {
	u := inst.userByID[rc.labels[1]]
	if u == nil {
		return nil, errf(codeResourceNotFound, "User not found: "+clip(rc.labels[1]))
	}
	return rawJSON(u.describe), nil
}

type createUserIn struct {
	pathInstance
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

func (in *createUserIn) validate(v *validator, rc *reqCtx) *apiError {
	in.validateInstance(v, rc)
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
		v.optEnum("phoneConfig.phoneType", in.PhoneConfig.PhoneType, []string{"SOFT_PHONE", "DESK_PHONE"})
		if in.PhoneConfig.AfterContactWorkTimeLimit != nil && *in.PhoneConfig.AfterContactWorkTimeLimit < 0 {
			v.intRange("phoneConfig.afterContactWorkTimeLimit", in.PhoneConfig.AfterContactWorkTimeLimit, 0, 1<<31-1)
		}
	}
	v.tags(in.Tags)
	return nil
}

func (s *Server) createUser(rc *reqCtx, in *createUserIn, inst *instance) (any, *apiError) {
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
	bodyInstance
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

func (in *searchUsersIn) validate(v *validator, _ *reqCtx) *apiError {
	in.validateInstance(v)
	v.intRange("maxResults", in.MaxResults, 1, 500)
	v.optLength("nextToken", in.NextToken, 1, 2500)
	return nil
}

func (s *Server) searchUsers(rc *reqCtx, in *searchUsersIn, inst *instance) (any, *apiError) {
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
	users, next, e := pageOf(matched, deref(in.NextToken), in.MaxResults, 100, rc)
	if e != nil {
		return nil, e
	}
	list := make([]userOut, 0, len(users))
	for _, u := range users {
		o := s.userOut(u, false)
		// SearchUsers answers UserIdentityInfoLite: names, no e-mail.
		o.IdentityInfo.Email = nil
		list = append(list, o)
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

// listResourcesIn is the input of the List operations over typed
// resources: the instance, a page and a repeated type filter.
type listResourcesIn struct {
	pathInstance
	queryPage
	types []string
}

// parseTypes reads the repeated type query parameter param (at most max
// values, each one of allowed).
func (in *listResourcesIn) parseTypes(v *validator, rc *reqCtx, param string, max int, allowed []string) *apiError {
	in.validateInstance(v, rc)
	if e := in.parse(v, rc, 1000); e != nil {
		return e
	}
	q, _ := rc.queryValues()
	in.types = q[param]
	v.count(param, len(in.types), 0, max)
	for _, t := range in.types {
		v.enum(param, t, allowed)
	}
	return nil
}

// listResources filters the resources pick selects by the requested types,
// pages them and answers them under listKey, fill completing each summary.
func (s *Server) listResources(rc *reqCtx, in *listResourcesIn, inst *instance, pick func(*instance) []*resource, listKey string, fill func(*resource, *resourceSummary)) (any, *apiError) {
	all := pick(inst)
	if len(in.types) > 0 {
		filtered := make([]*resource, 0, len(all))
		for _, r := range all {
			if contains(in.types, r.typ) {
				filtered = append(filtered, r)
			}
		}
		all = filtered
	}
	all, next, e := pageOf(all, in.nextToken, in.maxResults, 100, rc)
	if e != nil {
		return nil, e
	}
	list := make([]resourceSummary, 0, len(all))
	for _, r := range all {
		sum := resourceSummary{Arn: &r.arn, Id: &r.id, Name: &r.name}
		fill(r, &sum)
		list = append(list, sum)
	}
	out := map[string]any{listKey: list}
	if next != nil { // the last page has no NextToken member at all
		out["NextToken"] = *next
	}
	return out, nil
}

type listQueuesIn struct{ listResourcesIn }

func (in *listQueuesIn) validate(v *validator, rc *reqCtx) *apiError {
	return in.parseTypes(v, rc, "queueTypes", 2, queueTypes)
}

func (s *Server) listQueues(rc *reqCtx, in *listQueuesIn, inst *instance) (any, *apiError) {
	return s.listResources(rc, &in.listResourcesIn, inst, func(in *instance) []*resource { return in.queues }, "QueueSummaryList",
		func(r *resource, out *resourceSummary) {
			out.QueueType, out.LastModifiedRegion, out.LastModifiedTime = r.typ, &s.o.Region, ep(r.modified)
		})
}

type listContactFlowsIn struct{ listResourcesIn }

func (in *listContactFlowsIn) validate(v *validator, rc *reqCtx) *apiError {
	return in.parseTypes(v, rc, "contactFlowTypes", 10, contactFlowTypes)
}

func (s *Server) listContactFlows(rc *reqCtx, in *listContactFlowsIn, inst *instance) (any, *apiError) {
	return s.listResources(rc, &in.listResourcesIn, inst, func(in *instance) []*resource { return in.flows }, "ContactFlowSummaryList",
		func(r *resource, out *resourceSummary) {
			out.ContactFlowType, out.ContactFlowState, out.ContactFlowStatus = r.typ, "ACTIVE", "PUBLISHED"
		})
}

type listAgentStatusesIn struct{ listResourcesIn }

func (in *listAgentStatusesIn) validate(v *validator, rc *reqCtx) *apiError {
	return in.parseTypes(v, rc, "AgentStatusTypes", 3, agentStatusTypes)
}

func (s *Server) listAgentStatuses(rc *reqCtx, in *listAgentStatusesIn, inst *instance) (any, *apiError) {
	return s.listResources(rc, &in.listResourcesIn, inst, func(in *instance) []*resource { return in.agentStatuses }, "AgentStatusSummaryList",
		func(r *resource, out *resourceSummary) {
			out.Type, out.LastModifiedRegion, out.LastModifiedTime = r.typ, &s.o.Region, ep(r.modified)
		})
}
