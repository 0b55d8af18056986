package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/internal/config"
)

// loadAWS returns the AWS configuration: the given one, or the default
// credential chain. Credentials are checked now so a missing one fails the
// start, not every job. With a custom endpoint (--endpoint: a simulator or
// a proxy) the EC2 instance metadata service is not asked: credentials come
// from the environment, the shared files or SSO, and when there are none,
// the documented placeholder credentials AKIDTOLLGATEPLACEHOLDER /
// placeholder sign the requests (what tollgate sim accepts without
// --access-key).
func loadAWS(ctx context.Context, cfg config.Config, given *aws.Config, log *slog.Logger) (aws.Config, error) {
	if given != nil {
		c := given.Copy()
		if c.Region == "" {
			c.Region = cfg.AWS.Region
		}
		return c, nil
	}
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.AWS.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.AWS.Region))
	}
	if cfg.AWS.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(cfg.AWS.Profile))
	}
	if cfg.AWS.Endpoint != "" {
		// A custom endpoint is a simulator or a proxy, not an EC2 role's
		// Connect: never wait for the instance metadata service (off EC2
		// it takes seconds to time out).
		opts = append(opts, awsconfig.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	c, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return c, fmt.Errorf("aws: loading the configuration: %w", err)
	}
	c.HTTPClient = awssdk.HTTPClient(c.HTTPClient)
	if c.Region == "" {
		if cfg.AWS.Endpoint == "" {
			return c, errors.New("aws.region: no Region configured: set --region, TOLLGATE_AWS_REGION or AWS_REGION")
		}
		c.Region = "us-east-1"
	}
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := c.Credentials.Retrieve(rctx); err != nil {
		if cfg.AWS.Endpoint == "" {
			return c, fmt.Errorf("aws: no usable credentials in the default chain (environment, shared files, SSO, IMDS): %w", err)
		}
		log.Warn("no AWS credentials found; signing requests to the custom endpoint with placeholder credentials", "endpoint", cfg.AWS.Endpoint)
		c.Credentials = credentials.NewStaticCredentialsProvider("AKIDTOLLGATEPLACEHOLDER", "placeholder", "")
	}
	return c, nil
}
