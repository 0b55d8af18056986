package usage

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	ctypes "github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"

	"github.com/tollgatehq/tollgate/quotas"
)

// Channels and the per-instance concurrency quota of each, by its name in
// the quota table (which holds the Service Quotas codes).
var channelQuotas = []struct {
	channel  ctypes.Channel
	resource string
}{
	{ctypes.ChannelVoice, quotas.ConcurrentActiveCalls},
	{ctypes.ChannelChat, quotas.ConcurrentActiveChats},
	{ctypes.ChannelTask, quotas.ConcurrentActiveTasks},
}

// queuesPerRequest is GetCurrentMetricData's limit on Filters.Queues.
const queuesPerRequest = 100

// InstanceQuota is one per-instance concurrency quota as Service Quotas
// reports it for an instance.
type InstanceQuota struct {
	Channel    string  `json:"channel"`  // VOICE, CHAT or TASK
	Resource   string  `json:"resource"` // the quota table's name, e.g. concurrent-active-calls
	Code       string  `json:"code"`
	Name       string  `json:"name"`
	Applied    float64 `json:"applied"`
	Default    float64 `json:"default"`
	Adjustable bool    `json:"adjustable"`
}

// InstanceUse is the contacts in progress on one instance, per channel,
// as GetCurrentMetricData shows them.
type InstanceUse struct {
	InstanceID  string                `json:"instance_id"`
	InstanceARN string                `json:"instance_arn"`
	Snapshot    time.Time             `json:"snapshot"` // DataSnapshotTime
	Queues      int                   `json:"queues"`   // queues the metrics were filtered on
	Channels    map[string]ChannelUse `json:"channels"` // by VOICE, CHAT, TASK
}

// ChannelUse is one channel's contacts in progress.
type ChannelUse struct {
	WithAgents float64 `json:"with_agents"` // SLOTS_ACTIVE
	Queued     float64 `json:"queued"`      // CONTACTS_IN_QUEUE
}

// InUse is the contacts counted: with agents plus waiting in queue.
func (c ChannelUse) InUse() float64 { return c.WithAgents + c.Queued }

// InstanceQuotaReader is the part of the Service Quotas client
// ReadInstanceQuotas uses.
type InstanceQuotaReader interface {
	GetServiceQuota(context.Context, *servicequotas.GetServiceQuotaInput, ...func(*servicequotas.Options)) (*servicequotas.GetServiceQuotaOutput, error)
	GetAWSDefaultServiceQuota(context.Context, *servicequotas.GetAWSDefaultServiceQuotaInput, ...func(*servicequotas.Options)) (*servicequotas.GetAWSDefaultServiceQuotaOutput, error)
}

// ConnectReader is the part of the Connect client ReadInstanceUse uses.
type ConnectReader interface {
	DescribeInstance(context.Context, *connect.DescribeInstanceInput, ...func(*connect.Options)) (*connect.DescribeInstanceOutput, error)
	ListQueues(context.Context, *connect.ListQueuesInput, ...func(*connect.Options)) (*connect.ListQueuesOutput, error)
	GetCurrentMetricData(context.Context, *connect.GetCurrentMetricDataInput, ...func(*connect.Options)) (*connect.GetCurrentMetricDataOutput, error)
}

// InstanceID returns the instance id of an id or an instance ARN.
func InstanceID(idOrARN string) string {
	if i := strings.LastIndexByte(idOrARN, '/'); i >= 0 {
		return idOrARN[i+1:]
	}
	return idOrARN
}

// ReadInstanceQuotas reads the applied (for the instance ARN, the
// quota's ContextId) and default values of the concurrent active calls,
// chats and tasks quotas.
func ReadInstanceQuotas(ctx context.Context, sq InstanceQuotaReader, instanceARN string) ([]InstanceQuota, error) {
	t := quotas.Default()
	out := make([]InstanceQuota, 0, len(channelQuotas))
	for _, cq := range channelQuotas {
		r, ok := t.Resource(cq.resource)
		if !ok || r.Code == "" {
			return nil, fmt.Errorf("quota table: no Service Quotas code for %s", cq.resource)
		}
		def, err := sq.GetAWSDefaultServiceQuota(ctx, &servicequotas.GetAWSDefaultServiceQuotaInput{ServiceCode: aws.String(ServiceCode), QuotaCode: aws.String(r.Code)})
		if err != nil {
			return nil, wrapAWS(err, "servicequotas", "GetAWSDefaultServiceQuota", r.Code)
		}
		cur, err := sq.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String(ServiceCode), QuotaCode: aws.String(r.Code),
			ContextId: aws.String(instanceARN)})
		if err != nil {
			return nil, wrapAWS(err, "servicequotas", "GetServiceQuota", r.Code)
		}
		q := InstanceQuota{Channel: string(cq.channel), Resource: cq.resource, Code: r.Code, Name: r.Title}
		if def.Quota != nil {
			q.Default = aws.ToFloat64(def.Quota.Value)
		}
		if cur.Quota != nil {
			q.Applied = aws.ToFloat64(cur.Quota.Value)
			q.Adjustable = cur.Quota.Adjustable
			if n := aws.ToString(cur.Quota.QuotaName); n != "" {
				q.Name = n
			}
		}
		out = append(out, q)
	}
	return out, nil
}

// ReadInstanceUse reads the contacts in progress per channel on the
// instance (an id or an ARN): DescribeInstance for its ARN, ListQueues for
// every queue, then GetCurrentMetricData filtered on those queues (100 a
// request) and grouped by CHANNEL, for SLOTS_ACTIVE (contacts held by
// agents) and CONTACTS_IN_QUEUE (contacts waiting). See the package
// documentation for why these metrics and what they miss.
func ReadInstanceUse(ctx context.Context, c ConnectReader, idOrARN string) (InstanceUse, error) {
	id := InstanceID(idOrARN)
	if id == "" {
		return InstanceUse{}, fmt.Errorf("--instance-id: empty")
	}
	di, err := c.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: aws.String(id)})
	if err != nil {
		return InstanceUse{}, wrapAWS(err, "connect", "DescribeInstance", "")
	}
	u := InstanceUse{InstanceID: id, Channels: map[string]ChannelUse{}}
	if di.Instance != nil {
		u.InstanceARN = aws.ToString(di.Instance.Arn)
	}
	var queues []string
	p := connect.NewListQueuesPaginator(c, &connect.ListQueuesInput{InstanceId: aws.String(id)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return InstanceUse{}, wrapAWS(err, "connect", "ListQueues", "")
		}
		for _, q := range page.QueueSummaryList {
			if q.Id != nil {
				queues = append(queues, *q.Id)
			}
		}
	}
	u.Queues = len(queues)
	for _, cq := range channelQuotas {
		u.Channels[string(cq.channel)] = ChannelUse{}
	}
	metrics := []ctypes.CurrentMetric{
		{Name: ctypes.CurrentMetricNameSlotsActive, Unit: ctypes.UnitCount},
		{Name: ctypes.CurrentMetricNameContactsInQueue, Unit: ctypes.UnitCount},
	}
	channels := []ctypes.Channel{ctypes.ChannelVoice, ctypes.ChannelChat, ctypes.ChannelTask}
	for start := 0; start < len(queues); start += queuesPerRequest {
		chunk := queues[start:min(len(queues), start+queuesPerRequest)]
		mp := connect.NewGetCurrentMetricDataPaginator(c, &connect.GetCurrentMetricDataInput{InstanceId: aws.String(id),
			Filters:   &ctypes.Filters{Queues: chunk, Channels: channels},
			Groupings: []ctypes.Grouping{ctypes.GroupingChannel}, CurrentMetrics: metrics})
		for mp.HasMorePages() {
			page, err := mp.NextPage(ctx)
			if err != nil {
				return InstanceUse{}, wrapAWS(err, "connect", "GetCurrentMetricData", "")
			}
			if page.DataSnapshotTime != nil && page.DataSnapshotTime.After(u.Snapshot) {
				u.Snapshot = *page.DataSnapshotTime
			}
			for _, r := range page.MetricResults {
				if r.Dimensions == nil {
					continue
				}
				ch := string(r.Dimensions.Channel)
				cu, ok := u.Channels[ch]
				if !ok {
					continue
				}
				for _, m := range r.Collections {
					if m.Metric == nil || m.Value == nil {
						continue
					}
					switch m.Metric.Name {
					case ctypes.CurrentMetricNameSlotsActive:
						cu.WithAgents += *m.Value
					case ctypes.CurrentMetricNameContactsInQueue:
						cu.Queued += *m.Value
					}
				}
				u.Channels[ch] = cu
			}
		}
	}
	return u, nil
}

// InstanceRow is one channel's contacts in progress against its
// per-instance concurrency quota.
type InstanceRow struct {
	Quota    InstanceQuota `json:"quota"`
	Use      ChannelUse    `json:"use"`
	InUse    float64       `json:"in_use"`
	Percent  float64       `json:"percent"` // InUse / Applied * 100
	Headroom float64       `json:"headroom"`
	Mark     string        `json:"mark,omitempty"`
}

// InstanceStatus is an instance's concurrency quotas against the contacts
// in progress.
type InstanceStatus struct {
	InstanceID  string        `json:"instance_id"`
	InstanceARN string        `json:"instance_arn"`
	Snapshot    time.Time     `json:"snapshot"`
	Queues      int           `json:"queues"`
	Rows        []InstanceRow `json:"channels"` // VOICE, CHAT, TASK
}

// BuildInstance marks each channel's use against its quota at warn and
// alarm percent (0 means the defaults). A quota of 0 with contacts in
// progress is marked ALARM (Service Quotas has been seen to read 0 for a
// new instance's concurrent calls).
func BuildInstance(q []InstanceQuota, u InstanceUse, warn, alarm float64) InstanceStatus {
	if warn <= 0 {
		warn = DefaultWarn
	}
	if alarm <= 0 {
		alarm = DefaultAlarm
	}
	st := InstanceStatus{InstanceID: u.InstanceID, InstanceARN: u.InstanceARN, Snapshot: u.Snapshot, Queues: u.Queues, Rows: []InstanceRow{}}
	for _, iq := range q {
		cu := u.Channels[iq.Channel]
		r := InstanceRow{Quota: iq, Use: cu, InUse: cu.InUse(), Headroom: iq.Applied - cu.InUse()}
		switch {
		case iq.Applied > 0:
			r.Percent = round2(r.InUse / iq.Applied * 100)
			r.Mark = markFor(r.Percent, warn, alarm)
		case r.InUse > 0:
			r.Mark = MarkAlarm
		}
		st.Rows = append(st.Rows, r)
	}
	return st
}

// markFor returns the marker of pct.
func markFor(pct, warn, alarm float64) string {
	switch {
	case pct >= alarm:
		return MarkAlarm
	case pct >= warn:
		return MarkWarn
	}
	return MarkNone
}

// percentCell renders a row's percent, "-" when the quota reads 0.
func (r InstanceRow) percentCell() string {
	if r.Quota.Applied <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", r.Percent)
}

func instanceQuotaCell(q InstanceQuota) string {
	if q.Default != q.Applied {
		return fmt.Sprintf("%g (%g)", q.Applied, q.Default)
	}
	return fmt.Sprintf("%g", q.Applied)
}

// headroomCell is the quota less the contacts in use, never below 0.
func (r InstanceRow) headroomCell() string { return fmt.Sprintf("%g", math.Max(0, r.Headroom)) }

func (st *InstanceStatus) renderText(w io.Writer) error {
	fmt.Fprintf(w, "\nInstance %s concurrent contacts against quota, snapshot %s (GetCurrentMetricData on %d queues: SLOTS_ACTIVE + CONTACTS_IN_QUEUE)\n",
		st.InstanceID, st.Snapshot.UTC().Format(time.RFC3339), st.Queues)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tQUOTA\tCODE\tADJ\tIN USE\tWITH AGENTS\tQUEUED\t% QUOTA\tHEADROOM\tMARK")
	for _, r := range st.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%g\t%g\t%g\t%s\t%s\t%s\n", r.Quota.Channel, instanceQuotaCell(r.Quota), r.Quota.Code, yesNo(r.Quota.Adjustable),
			r.InUse, r.Use.WithAgents, r.Use.Queued, r.percentCell(), r.headroomCell(), r.Mark)
	}
	return tw.Flush()
}

func (st *InstanceStatus) renderMD(w io.Writer) {
	fmt.Fprintf(w, "\n## Instance %s: concurrent contacts against quota\n\nSnapshot %s; GetCurrentMetricData on %d queues, SLOTS_ACTIVE + CONTACTS_IN_QUEUE per channel.\n\n",
		st.InstanceID, st.Snapshot.UTC().Format(time.RFC3339), st.Queues)
	fmt.Fprintln(w, "| channel | quota (default) | code | adjustable | in use | with agents | queued | % of quota | headroom | mark |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range st.Rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %g | %g | %g | %s | %s | %s |\n", r.Quota.Channel, instanceQuotaCell(r.Quota), r.Quota.Code, yesNo(r.Quota.Adjustable),
			r.InUse, r.Use.WithAgents, r.Use.Queued, r.percentCell(), r.headroomCell(), r.Mark)
	}
}
