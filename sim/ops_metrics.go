package sim

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

type metricFilters struct {
	AgentStatuses          []string
	Channels               []string
	Queues                 []string
	RoutingProfiles        []string
	RoutingStepExpressions []string
}

func (v *validator) filters(f *metricFilters) {
	v.count("filters.queues", len(f.Queues), 0, 100)
	v.count("filters.channels", len(f.Channels), 0, 3)
	v.count("filters.routingProfiles", len(f.RoutingProfiles), 0, 100)
	v.count("filters.agentStatuses", len(f.AgentStatuses), 0, 50)
	for _, c := range f.Channels {
		v.enum("filters.channels", c, channels)
	}
}

type ref struct {
	Arn *string `json:"Arn"`
	Id  *string `json:"Id"`
}

type dimensions struct {
	Channel        string `json:"Channel,omitempty"`
	Queue          *ref   `json:"Queue,omitempty"`
	RoutingProfile *ref   `json:"RoutingProfile,omitempty"`
}

type metricValue struct {
	Metric json.RawMessage `json:"Metric"`
	Value  *float64        `json:"Value"`
}

type metricResult struct {
	Collections []metricValue `json:"Collections"`
	Dimensions  *dimensions   `json:"Dimensions,omitempty"`
}

// groupsFor expands Groupings into result dimensions: one per filtered
// queue for QUEUE, one per filtered channel for CHANNEL, or a single
// undimensioned result.
func groupsFor(inst *instance, f *metricFilters, groupingList []string) []*dimensions {
	var out []*dimensions
	byQueue := contains(groupingList, "QUEUE")
	byChannel := contains(groupingList, "CHANNEL")
	var qs []*ref
	if byQueue {
		for _, id := range f.Queues {
			r := inst.byID[id]
			if r == nil {
				r = inst.byID[lastSegment(id)]
			}
			if r != nil && r.kind == "queue" {
				qs = append(qs, &ref{Arn: &r.arn, Id: &r.id})
			}
		}
	} else {
		qs = []*ref{nil}
	}
	chs := []string{""}
	if byChannel {
		chs = f.Channels
		if len(chs) == 0 {
			chs = []string{"VOICE", "CHAT", "TASK"}
		}
	}
	for _, q := range qs {
		for _, ch := range chs {
			if q == nil && ch == "" {
				out = append(out, nil)
				continue
			}
			out = append(out, &dimensions{Queue: q, Channel: ch})
		}
	}
	return out
}

func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func chOf(name string) (channel, bool) {
	switch name {
	case "VOICE":
		return chVoice, true
	case "CHAT":
		return chChat, true
	case "TASK":
		return chTask, true
	}
	return 0, false
}

type getCurrentMetricDataIn struct {
	pathInstance
	CurrentMetrics []struct {
		Name *string
		Unit *string
	}
	Filters      *metricFilters
	Groupings    []string
	MaxResults   *int64
	NextToken    *string
	SortCriteria []json.RawMessage
}

func (in *getCurrentMetricDataIn) validate(v *validator, rc *reqCtx) *apiError {
	in.validateInstance(v, rc)
	v.required("currentMetrics", in.CurrentMetrics != nil)
	v.required("filters", in.Filters != nil)
	v.metricGroupings(in.Groupings)
	v.intRange("maxResults", in.MaxResults, 1, 100)
	v.count("sortCriteria", len(in.SortCriteria), 0, 1)
	for _, m := range in.CurrentMetrics {
		v.required("currentMetrics.member.name", m.Name != nil)
		v.optEnum("currentMetrics.member.name", m.Name, currentMetricNames)
		v.optEnum("currentMetrics.member.unit", m.Unit, units)
	}
	if in.Filters != nil {
		v.filters(in.Filters)
	}
	return nil
}

func (in *getCurrentMetricDataIn) check() *apiError {
	if len(in.Filters.Queues)+len(in.Filters.RoutingProfiles)+len(in.Filters.RoutingStepExpressions)+len(in.Filters.AgentStatuses) == 0 {
		return errf(codeInvalidParameter, "Filters must contain at least one of Queues, RoutingProfiles, RoutingStepExpressions or AgentStatuses.")
	}
	return nil
}

func (s *Server) getCurrentMetricData(rc *reqCtx, in *getCurrentMetricDataIn, inst *instance) (any, *apiError) {
	inst.prune(rc.now)
	groups := groupsFor(inst, in.Filters, in.Groupings)
	shown, next, e := pageOf(groups, deref(in.NextToken), in.MaxResults, 100, rc)
	if e != nil {
		return nil, e
	}
	results := make([]metricResult, 0, len(shown))
	for _, d := range shown {
		res := metricResult{Dimensions: d, Collections: make([]metricValue, 0, len(in.CurrentMetrics))}
		snap := inst.snapshot(in.Filters, d, s.driftAt(inst, rc.now))
		for _, m := range in.CurrentMetrics {
			val := snap.value(*m.Name)
			unit := deref(m.Unit)
			if unit == "" {
				unit = "COUNT"
				if *m.Name == "OLDEST_CONTACT_AGE" || *m.Name == "ESTIMATED_WAIT_TIME" {
					unit = "SECONDS"
				}
			}
			metric, _ := json.Marshal(struct{ Name, Unit string }{*m.Name, unit})
			res.Collections = append(res.Collections, metricValue{Metric: metric, Value: &val})
		}
		results = append(results, res)
	}
	total := int64(len(groups))
	return struct {
		ApproximateTotalCount *int64
		DataSnapshotTime      *epoch
		MetricResults         []metricResult
		NextToken             *string `json:"NextToken,omitempty"`
	}{&total, ep(rc.now), results, next}, nil
}

// slotsPerAgent is how many contacts of each channel one simulated agent
// handles at once (GetCurrentUserData's MaxSlotsByChannel).
var slotsPerAgent = [numChannels]int{chVoice: 1, chChat: 2, chTask: 1}

// liveSnapshot is the real-time picture of one result row.
type liveSnapshot struct {
	agents                  int     // agents online (every simulated user)
	slotsActive, slotsTotal int     // agent slots holding a contact, and all slots
	onContact               int     // agents holding at least one contact
	queued                  int     // contacts waiting in the row's queues
	oldest                  float64 // age of the oldest waiting contact, seconds
}

// snapshot derives a real-time row from the active contacts, so that per
// channel SLOTS_ACTIVE + CONTACTS_IN_QUEUE is the number of active contacts:
// each simulated user is an agent on every queue with slotsPerAgent slots;
// contacts beyond the slots wait in queue, spread over the instance's
// queues in order (queue i holds every n-th), so summing CONTACTS_IN_QUEUE
// over all queues gives the instance's total. Agent metrics are not split
// by queue (every agent serves every queue). A channel filter or dimension
// narrows the channels; a queue filter or dimension narrows the queues.
// bg is the seeded background traffic (Options.MetricDrift): agents busy and
// contacts waiting that the simulator does not track one by one; it is
// added to every channel-less row and to voice rows.
func (in *instance) snapshot(f *metricFilters, d *dimensions, bg drift) liveSnapshot {
	var chs []channel
	switch {
	case d != nil && d.Channel != "":
		if ch, ok := chOf(d.Channel); ok {
			chs = []channel{ch}
		}
	case f != nil && len(f.Channels) > 0:
		for _, name := range f.Channels {
			if ch, ok := chOf(name); ok && !slices.Contains(chs, ch) {
				chs = append(chs, ch)
			}
		}
	default:
		chs = []channel{chVoice, chChat, chTask}
	}
	var queues []int // indexes into in.queues; nil means all
	switch {
	case d != nil && d.Queue != nil:
		queues = in.queueIndexes([]string{*d.Queue.Id})
	case f != nil && len(f.Queues) > 0:
		queues = in.queueIndexes(f.Queues)
	}
	users := len(in.users)
	sn := liveSnapshot{agents: users}
	for _, ch := range chs {
		active := in.activeCount(ch)
		capacity := users * slotsPerAgent[ch]
		slots := min(active, capacity)
		sn.slotsActive += slots
		sn.slotsTotal += capacity
		sn.onContact += (slots + slotsPerAgent[ch] - 1) / slotsPerAgent[ch]
		waiting := active - slots
		if queues == nil || len(in.queues) == 0 {
			sn.queued += waiting
			continue
		}
		n := len(in.queues)
		for _, i := range queues {
			sn.queued += waiting / n
			if i < waiting%n {
				sn.queued++
			}
		}
	}
	if bg != (drift{}) && slices.Contains(chs, chVoice) {
		sn.slotsActive = min(sn.slotsActive+bg.busy, sn.slotsTotal)
		sn.onContact += bg.busy
		waiting := bg.waiting
		if queues != nil && len(in.queues) > 0 {
			waiting = waiting * len(queues) / len(in.queues)
		}
		sn.queued += waiting
		sn.oldest = bg.oldest
	}
	sn.onContact = min(sn.onContact, users)
	return sn
}

// queueIndexes returns the positions in in.queues of the queues named by
// id or ARN, each once.
func (in *instance) queueIndexes(ids []string) []int {
	out := []int{}
	for _, id := range ids {
		r := in.byID[id]
		if r == nil {
			r = in.byID[lastSegment(id)]
		}
		if r == nil || r.kind != "queue" {
			continue
		}
		if i := slices.Index(in.queues, r); i >= 0 && !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	return out
}

// value is the named real-time metric of the snapshot.
func (sn liveSnapshot) value(name string) float64 {
	switch name {
	case "AGENTS_ONLINE", "AGENTS_STAFFED":
		return float64(sn.agents)
	case "AGENTS_ON_CALL", "AGENTS_ON_CONTACT":
		return float64(sn.onContact)
	case "AGENTS_AVAILABLE":
		return float64(sn.agents - sn.onContact)
	case "SLOTS_ACTIVE":
		return float64(sn.slotsActive)
	case "SLOTS_AVAILABLE":
		return float64(sn.slotsTotal - sn.slotsActive)
	case "CONTACTS_IN_QUEUE":
		return float64(sn.queued)
	case "OLDEST_CONTACT_AGE":
		return sn.oldest
	}
	return 0
}

type getMetricDataIn struct {
	pathInstance
	EndTime           *inTime
	Filters           *metricFilters
	Groupings         []string
	HistoricalMetrics []struct {
		Name      *string
		Statistic *string
		Threshold json.RawMessage
		Unit      *string
	}
	MaxResults *int64
	NextToken  *string
	StartTime  *inTime
}

func (in *getMetricDataIn) validate(v *validator, rc *reqCtx) *apiError {
	in.validateInstance(v, rc)
	v.required("startTime", in.StartTime != nil)
	v.required("endTime", in.EndTime != nil)
	v.required("filters", in.Filters != nil)
	v.required("historicalMetrics", in.HistoricalMetrics != nil)
	v.metricGroupings(in.Groupings)
	v.intRange("maxResults", in.MaxResults, 1, 100)
	for _, m := range in.HistoricalMetrics {
		v.required("historicalMetrics.member.name", m.Name != nil)
		v.optEnum("historicalMetrics.member.name", m.Name, historicalNames)
		v.optEnum("historicalMetrics.member.statistic", m.Statistic, statistics)
		v.optEnum("historicalMetrics.member.unit", m.Unit, units)
	}
	if in.Filters != nil {
		v.filters(in.Filters)
	}
	return nil
}

func (in *getMetricDataIn) check() *apiError {
	return checkTimeRange(in.StartTime.Time, in.EndTime.Time, 24*time.Hour, "24 hours")
}

func (s *Server) getMetricData(rc *reqCtx, in *getMetricDataIn, inst *instance) (any, *apiError) {
	groups := groupsFor(inst, in.Filters, in.Groupings)
	shown, next, e := pageOf(groups, deref(in.NextToken), in.MaxResults, 100, rc)
	if e != nil {
		return nil, e
	}
	results := make([]metricResult, 0, len(shown))
	for _, d := range shown {
		counts := inst.countContacts(in.StartTime.Time, in.EndTime.Time, d)
		res := metricResult{Dimensions: d, Collections: make([]metricValue, 0, len(in.HistoricalMetrics))}
		for _, m := range in.HistoricalMetrics {
			val := counts.value(*m.Name)
			metric, _ := json.Marshal(struct {
				Name      string
				Statistic string          `json:",omitempty"`
				Threshold json.RawMessage `json:",omitempty"`
				Unit      string          `json:",omitempty"`
			}{*m.Name, deref(m.Statistic), m.Threshold, deref(m.Unit)})
			res.Collections = append(res.Collections, metricValue{Metric: metric, Value: &val})
		}
		results = append(results, res)
	}
	return struct {
		MetricResults []metricResult
		NextToken     *string `json:"NextToken,omitempty"`
	}{results, next}, nil
}

type contactCounts struct {
	started, outbound, reorder int
	seconds                    float64
}

// value is the historical metric name (GetMetricData's and
// GetMetricDataV2's names) over the counts; other names are 0.
func (cc contactCounts) value(name string) float64 {
	switch name {
	case "CONTACTS_HANDLED", "CONTACTS_QUEUED", "API_CONTACTS_HANDLED", "CONTACTS_CREATED":
		return float64(cc.started)
	case "CONTACTS_HANDLED_OUTBOUND":
		return float64(cc.outbound)
	case "CONTACTS_ABANDONED", "CONTACTS_MISSED":
		return float64(cc.reorder)
	case "HANDLE_TIME", "INTERACTION_TIME", "AVG_HANDLE_TIME", "AVG_CONTACT_DURATION":
		if cc.started > 0 {
			return cc.seconds / float64(cc.started)
		}
	}
	return 0
}

// countContacts counts remembered contacts started in [from, to) for the
// dimension's channel; requires mu held.
func (in *instance) countContacts(from, to time.Time, d *dimensions) contactCounts {
	var cc contactCounts
	want, filter := channel(0), false
	if d != nil && d.Channel != "" {
		want, filter = chOf(d.Channel)
	}
	for _, c := range in.contacts {
		if c.start.Before(from) || !c.start.Before(to) || (filter && c.ch != want) {
			continue
		}
		if c.reorder {
			cc.reorder++
			continue
		}
		cc.started++
		if c.ch == chVoice {
			cc.outbound++
		}
		cc.seconds += c.end.Sub(c.start).Seconds()
	}
	return cc
}

type getMetricDataV2In struct {
	EndTime *inTime
	Filters []struct {
		FilterKey    *string
		FilterValues []string
	}
	Groupings []string
	Interval  *struct {
		IntervalPeriod *string
		TimeZone       *string
	}
	MaxResults *int64
	Metrics    []struct {
		Name          *string
		MetricFilters json.RawMessage
		Threshold     json.RawMessage
	}
	NextToken   *string
	ResourceArn *string
	StartTime   *inTime
}

type metricResultV2 struct {
	Collections    []metricValue     `json:"Collections"`
	Dimensions     map[string]string `json:"Dimensions"`
	MetricInterval *struct {
		EndTime   *epoch
		Interval  string
		StartTime *epoch
	} `json:"MetricInterval,omitempty"`
}

var intervalPeriods = []string{"FIFTEEN_MIN", "THIRTY_MIN", "HOUR", "DAY", "WEEK", "TOTAL"}

func (in *getMetricDataV2In) validate(v *validator, _ *reqCtx) *apiError {
	v.required("resourceArn", in.ResourceArn != nil)
	v.required("startTime", in.StartTime != nil)
	v.required("endTime", in.EndTime != nil)
	v.required("filters", in.Filters != nil)
	v.required("metrics", in.Metrics != nil)
	if in.Filters != nil {
		v.count("filters", len(in.Filters), 1, 5)
	}
	for _, f := range in.Filters {
		v.required("filters.member.filterKey", f.FilterKey != nil)
		v.count("filters.member.filterValues", len(f.FilterValues), 0, 100)
	}
	v.count("groupings", len(in.Groupings), 0, 4)
	v.intRange("maxResults", in.MaxResults, 1, 100)
	v.optLength("nextToken", in.NextToken, 1, 2500)
	if in.Metrics != nil {
		v.count("metrics", len(in.Metrics), 1, 10)
	}
	for _, m := range in.Metrics {
		v.required("metrics.member.name", m.Name != nil)
	}
	if in.Interval != nil && in.Interval.IntervalPeriod != nil {
		v.enum("interval.intervalPeriod", *in.Interval.IntervalPeriod, intervalPeriods)
	}
	return nil
}

func (in *getMetricDataV2In) check() *apiError {
	return checkTimeRange(in.StartTime.Time, in.EndTime.Time, 35*24*time.Hour, "35 days")
}

// getMetricDataV2 finds its instance itself: ResourceArn names it, and an
// unknown one is "Resource not found".
func (s *Server) getMetricDataV2(rc *reqCtx, in *getMetricDataV2In, _ *instance) (any, *apiError) {
	st := s.st
	inst := st.instance(*in.ResourceArn)
	if inst == nil {
		return nil, errf(codeResourceNotFound, "Resource not found: "+clip(*in.ResourceArn))
	}
	var chFilter []string
	for _, f := range in.Filters {
		if deref(f.FilterKey) == "CHANNEL" {
			chFilter = f.FilterValues
		}
	}
	type group struct {
		dims map[string]string
		d    *dimensions
	}
	var groups []group
	if contains(in.Groupings, "CHANNEL") {
		list := chFilter
		if len(list) == 0 {
			list = []string{"VOICE", "CHAT", "TASK"}
		}
		for _, ch := range list {
			groups = append(groups, group{map[string]string{"CHANNEL": ch}, &dimensions{Channel: ch}})
		}
	} else {
		groups = []group{{map[string]string{}, nil}}
	}
	shown, next, e := pageOf(groups, deref(in.NextToken), in.MaxResults, 100, rc)
	if e != nil {
		return nil, e
	}
	results := make([]metricResultV2, 0, len(shown))
	for _, g := range shown {
		counts := inst.countContacts(in.StartTime.Time, in.EndTime.Time, g.d)
		res := metricResultV2{Dimensions: g.dims, Collections: make([]metricValue, 0, len(in.Metrics))}
		if in.Interval != nil && in.Interval.IntervalPeriod != nil {
			res.MetricInterval = &struct {
				EndTime   *epoch
				Interval  string
				StartTime *epoch
			}{ep(in.EndTime.Time), *in.Interval.IntervalPeriod, ep(in.StartTime.Time)}
		}
		for _, m := range in.Metrics {
			val := counts.value(*m.Name)
			metric, _ := json.Marshal(struct {
				Name      string
				Threshold json.RawMessage `json:",omitempty"`
			}{*m.Name, m.Threshold})
			res.Collections = append(res.Collections, metricValue{Metric: metric, Value: &val})
		}
		results = append(results, res)
	}
	return struct {
		MetricResults []metricResultV2
		NextToken     *string `json:"NextToken,omitempty"`
	}{results, next}, nil
}

type getCurrentUserDataIn struct {
	pathInstance
	Filters *struct {
		Agents              []string
		ContactFilter       json.RawMessage
		Queues              []string
		RoutingProfiles     []string
		UserHierarchyGroups []string
	}
	MaxResults *int64
	NextToken  *string
}

type userData struct {
	ActiveSlotsByChannel    map[string]int32 `json:"ActiveSlotsByChannel"`
	AvailableSlotsByChannel map[string]int32 `json:"AvailableSlotsByChannel"`
	Contacts                []struct{}       `json:"Contacts"`
	MaxSlotsByChannel       map[string]int32 `json:"MaxSlotsByChannel"`
	RoutingProfile          *ref             `json:"RoutingProfile"`
	Status                  *struct {
		StatusArn            *string
		StatusName           *string
		StatusStartTimestamp *epoch
	} `json:"Status"`
	User *ref `json:"User"`
}

func (in *getCurrentUserDataIn) validate(v *validator, rc *reqCtx) *apiError {
	in.validateInstance(v, rc)
	v.required("filters", in.Filters != nil)
	v.intRange("maxResults", in.MaxResults, 1, 100)
	if f := in.Filters; f != nil {
		v.count("filters.agents", len(f.Agents), 0, 100)
		v.count("filters.queues", len(f.Queues), 0, 100)
		v.count("filters.routingProfiles", len(f.RoutingProfiles), 0, 100)
		v.count("filters.userHierarchyGroups", len(f.UserHierarchyGroups), 0, 100)
	}
	return nil
}

func (in *getCurrentUserDataIn) check() *apiError {
	f := in.Filters
	if len(f.Agents)+len(f.Queues)+len(f.RoutingProfiles)+len(f.UserHierarchyGroups) == 0 {
		return errf(codeInvalidParameter, "Filters must contain at least one of Agents, Queues, RoutingProfiles or UserHierarchyGroups.")
	}
	return nil
}

func (s *Server) getCurrentUserData(rc *reqCtx, in *getCurrentUserDataIn, inst *instance) (any, *apiError) {
	f := in.Filters
	var avail *resource
	for _, a := range inst.agentStatuses {
		if a.typ == "ROUTABLE" {
			avail = a
			break
		}
	}
	var users []*user
	for _, u := range inst.users {
		switch {
		case len(f.Agents) > 0:
			if contains(f.Agents, u.id) || contains(f.Agents, u.arn) {
				users = append(users, u)
			}
		case len(f.RoutingProfiles) > 0:
			if contains(f.RoutingProfiles, u.routingProfile) {
				users = append(users, u)
			}
		default:
			users = append(users, u)
		}
	}
	shown, next, e := pageOf(users, deref(in.NextToken), in.MaxResults, 100, rc)
	if e != nil {
		return nil, e
	}
	list := make([]userData, 0, len(shown))
	for _, u := range shown {
		ud := userData{
			ActiveSlotsByChannel:    map[string]int32{"VOICE": 0, "CHAT": 0, "TASK": 0},
			AvailableSlotsByChannel: map[string]int32{"VOICE": 1, "CHAT": 2, "TASK": 1},
			MaxSlotsByChannel:       map[string]int32{"VOICE": 1, "CHAT": 2, "TASK": 1},
			Contacts:                []struct{}{},
			User:                    &ref{Arn: &u.arn, Id: &u.id},
		}
		if rp := inst.byID[u.routingProfile]; rp != nil {
			ud.RoutingProfile = &ref{Arn: &rp.arn, Id: &rp.id}
		}
		if avail != nil {
			ud.Status = &struct {
				StatusArn            *string
				StatusName           *string
				StatusStartTimestamp *epoch
			}{&avail.arn, &avail.name, ep(s.st.createdAt)}
		}
		list = append(list, ud)
	}
	total := int64(len(users))
	return struct {
		ApproximateTotalCount *int64
		NextToken             *string `json:"NextToken,omitempty"`
		UserDataList          []userData
	}{&total, next, list}, nil
}
