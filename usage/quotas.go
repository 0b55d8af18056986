package usage

import (
	"context"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	sqtypes "github.com/aws/aws-sdk-go-v2/service/servicequotas/types"
)

// Quota is the rate quota of one Connect operation as Service Quotas
// reports it.
type Quota struct {
	Op         string  `json:"op"`
	Code       string  `json:"code"`
	Name       string  `json:"name"`
	Applied    float64 `json:"applied"` // requests per second
	Default    float64 `json:"default"`
	Adjustable bool    `json:"adjustable"`
}

// QuotaReader is the part of the Service Quotas client ReadQuotas uses.
type QuotaReader interface {
	ListServiceQuotas(context.Context, *servicequotas.ListServiceQuotasInput, ...func(*servicequotas.Options)) (*servicequotas.ListServiceQuotasOutput, error)
	ListAWSDefaultServiceQuotas(context.Context, *servicequotas.ListAWSDefaultServiceQuotasInput, ...func(*servicequotas.Options)) (*servicequotas.ListAWSDefaultServiceQuotasOutput, error)
}

// opOf returns the operation a rate quota limits: its usage metric's
// Resource dimension, or the X of "Rate of X API requests".
func opOf(q sqtypes.ServiceQuota) string {
	if m := q.UsageMetric; m != nil && aws.ToString(m.MetricName) == "CallCount" {
		if r := m.MetricDimensions["Resource"]; r != "" {
			return r
		}
	}
	n := aws.ToString(q.QuotaName)
	if s, ok := strings.CutPrefix(n, "Rate of "); ok {
		if op, ok := strings.CutSuffix(s, " API requests"); ok {
			return op
		}
	}
	return ""
}

// ReadQuotas returns the connect API rate quotas by operation, applied and
// default values read at run time (codes are never taken on trust).
func ReadQuotas(ctx context.Context, sq QuotaReader) (map[string]Quota, error) {
	out := map[string]Quota{}
	p := servicequotas.NewListAWSDefaultServiceQuotasPaginator(sq, &servicequotas.ListAWSDefaultServiceQuotasInput{ServiceCode: aws.String(ServiceCode)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrapAWS(err, "servicequotas", "ListAWSDefaultServiceQuotas", "")
		}
		for _, q := range page.Quotas {
			if op := opOf(q); op != "" {
				v := aws.ToFloat64(q.Value)
				out[op] = Quota{Op: op, Code: aws.ToString(q.QuotaCode), Name: aws.ToString(q.QuotaName), Applied: v, Default: v, Adjustable: q.Adjustable}
			}
		}
	}
	ap := servicequotas.NewListServiceQuotasPaginator(sq, &servicequotas.ListServiceQuotasInput{ServiceCode: aws.String(ServiceCode)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return nil, wrapAWS(err, "servicequotas", "ListServiceQuotas", "")
		}
		for _, q := range page.Quotas {
			op := opOf(q)
			if op == "" {
				continue
			}
			cur, ok := out[op]
			if !ok {
				cur = Quota{Op: op, Code: aws.ToString(q.QuotaCode), Name: aws.ToString(q.QuotaName), Default: aws.ToFloat64(q.Value)}
			}
			cur.Applied = aws.ToFloat64(q.Value)
			cur.Adjustable = q.Adjustable
			out[op] = cur
		}
	}
	return out, nil
}

// sortedOps returns the keys of m, sorted.
func sortedOps[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
