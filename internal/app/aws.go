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

	"github.com/tollgatehq/tollgate/internal/config"
)

// loadAWS returns the AWS configuration: the given one, or the default
// credential chain. Credentials are checked now so a missing one fails the
// start, not every job. With a custom endpoint (a simulator) and no
// credentials anywhere, static placeholder credentials are used.
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
	c, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return c, fmt.Errorf("aws: loading the configuration: %w", err)
	}
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
