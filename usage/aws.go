package usage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	"github.com/aws/smithy-go"

	"github.com/tollgatehq/tollgate/awssdk"
)

// ServiceCode is Amazon Connect's Service Quotas service code.
const ServiceCode = "connect"

// Clients are the AWS clients the package uses.
type Clients struct {
	SQ *servicequotas.Client
	CW *cloudwatch.Client
	// Connect reads an instance's real-time metrics (ReadInstanceUse);
	// pass awssdk.Govern to NewClients to put it under a governor, since
	// GetCurrentMetricData is limited to 5 requests/s per account.
	Connect *connect.Client
}

// NewClients builds the clients from cfg. A non-empty endpoint points them
// all at it (overriding AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>);
// otherwise the SDK resolves each client's endpoint, honouring those
// variables. connectOpts are applied to the Connect client (e.g.
// awssdk.Govern(g)).
func NewClients(cfg aws.Config, endpoint string, connectOpts ...func(*connect.Options)) Clients {
	return Clients{
		Connect: connect.NewFromConfig(cfg, append([]func(*connect.Options){func(o *connect.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		}}, connectOpts...)...),
		SQ: servicequotas.NewFromConfig(cfg, func(o *servicequotas.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		}),
		CW: cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		}),
	}
}

// LoadConfig loads the default AWS configuration (environment, shared
// files, instance roles) for region ("" keeps the configured one).
func LoadConfig(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	cfg.HTTPClient = awssdk.HTTPClient(cfg.HTTPClient)
	return cfg, nil
}

// Sentinel errors; the typed errors below match them with errors.Is.
var (
	ErrAccessDenied     = errors.New("access denied")
	ErrNoCredentials    = errors.New("no AWS credentials")
	ErrUnknownOperation = errors.New("unknown operation")
	ErrRefused          = errors.New("request refused")
)

// PermissionError says which IAM action was refused.
type PermissionError struct {
	Action string // e.g. "servicequotas:RequestServiceQuotaIncrease"
	Quota  string // the quota code, when one was involved
	Err    error
}

func (e *PermissionError) Error() string {
	q := ""
	if e.Quota != "" {
		q = " (quota " + e.Quota + ")"
	}
	return "access denied: the caller lacks the IAM permission " + e.Action + q + "; grant it to the role or user and retry"
}

// Is matches ErrAccessDenied.
func (e *PermissionError) Is(t error) bool { return t == ErrAccessDenied }

// Unwrap returns the SDK error.
func (e *PermissionError) Unwrap() error { return e.Err }

// RefusalError is a request Tollgate will not send, with the reason.
type RefusalError struct {
	Op, Code string
	Reason   string
}

func (e *RefusalError) Error() string {
	return fmt.Sprintf("quota %s (%s): %s", e.Code, e.Op, e.Reason)
}

// Is matches ErrRefused.
func (e *RefusalError) Is(t error) bool { return t == ErrRefused }

// wrapAWS turns an SDK error into a clear one: missing credentials and
// AccessDenied name what is missing. service is "servicequotas" or
// "cloudwatch", op the API operation.
func wrapAWS(err error, service, op, quota string) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "AccessDeniedException" || ae.ErrorCode() == "AccessDenied") {
		return &PermissionError{Action: service + ":" + op, Quota: quota, Err: err}
	}
	msg := err.Error()
	if strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "no EC2 IMDS role found") ||
		strings.Contains(msg, "failed to refresh cached credentials") || strings.Contains(msg, "static credentials are empty") {
		return fmt.Errorf("%w: %s:%s needs credentials; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (for tollgate sim any non-empty pair works): %v",
			ErrNoCredentials, service, op, err)
	}
	return fmt.Errorf("%s:%s: %w", service, op, err)
}
