package usage

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	sqtypes "github.com/aws/aws-sdk-go-v2/service/servicequotas/types"
)

// EscalateAfter is how many business days an open request may wait before
// it is flagged.
const EscalateAfter = 3

// Tracked is one increase request with its age.
type Tracked struct {
	ID           string    `json:"id"`
	CaseID       string    `json:"case_id,omitempty"`
	Code         string    `json:"quota_code"`
	Name         string    `json:"quota_name"`
	Desired      float64   `json:"desired"`
	Status       string    `json:"status"`
	Created      time.Time `json:"created"`
	BusinessDays int       `json:"business_days"`
	Overdue      bool      `json:"overdue"`
	Escalation   string    `json:"escalation,omitempty"`
}

// HistoryAPI is the part of the Service Quotas client RequestStatus uses.
type HistoryAPI interface {
	ListRequestedServiceQuotaChangeHistory(context.Context, *servicequotas.ListRequestedServiceQuotaChangeHistoryInput, ...func(*servicequotas.Options)) (*servicequotas.ListRequestedServiceQuotaChangeHistoryOutput, error)
}

// BusinessDays counts the whole weekdays (Monday to Friday) from from to
// now.
func BusinessDays(from, now time.Time) int {
	n := 0
	for d := from.Add(24 * time.Hour); !d.After(now); d = d.Add(24 * time.Hour) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return n
}

// RequestStatus lists the connect increase requests (account and resource
// level) with their age in business days at now; open ones (PENDING,
// CASE_OPENED) older than EscalateAfter business days are flagged with the
// escalation step.
func RequestStatus(ctx context.Context, sq HistoryAPI, now time.Time) ([]Tracked, error) {
	var out []Tracked
	p := servicequotas.NewListRequestedServiceQuotaChangeHistoryPaginator(sq, &servicequotas.ListRequestedServiceQuotaChangeHistoryInput{
		ServiceCode: aws.String(ServiceCode), QuotaRequestedAtLevel: sqtypes.AppliedLevelEnumAll})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrapAWS(err, "servicequotas", "ListRequestedServiceQuotaChangeHistory", "")
		}
		for _, r := range page.RequestedQuotas {
			t := Tracked{ID: aws.ToString(r.Id), CaseID: aws.ToString(r.CaseId), Code: aws.ToString(r.QuotaCode),
				Name: aws.ToString(r.QuotaName), Desired: aws.ToFloat64(r.DesiredValue), Status: string(r.Status),
				Created: aws.ToTime(r.Created)}
			t.BusinessDays = BusinessDays(t.Created, now)
			open := r.Status == sqtypes.RequestStatusPending || r.Status == sqtypes.RequestStatusCaseOpened
			if open && t.BusinessDays > EscalateAfter {
				t.Overdue = true
				if t.CaseID != "" {
					t.Escalation = "reply on support case " + t.CaseID + " in the AWS Support Center with the business impact and ask for escalation; involve your account team (TAM) if you have one"
				} else {
					t.Escalation = "open an AWS Support case (Service limit increase, Amazon Connect) citing request " + t.ID + " and the business impact; involve your account team (TAM) if you have one"
				}
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// RenderTracked writes the requests as a table.
func RenderTracked(w io.Writer, rs []Tracked) error {
	if len(rs) == 0 {
		fmt.Fprintln(w, "No quota increase requests for connect in the last 90 days.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST\tQUOTA\tDESIRED\tSTATUS\tCASE\tBUSINESS DAYS\tFLAG")
	for _, r := range rs {
		flag := ""
		if r.Overdue {
			flag = "ESCALATE"
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%g\t%s\t%s\t%d\t%s\n", r.ID, r.Code, r.Name, r.Desired, r.Status, r.CaseID, r.BusinessDays, flag)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rs {
		if r.Overdue {
			fmt.Fprintf(w, "%s: open for %d business days: %s.\n", r.ID, r.BusinessDays, r.Escalation)
		}
	}
	return nil
}
