package cli

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/contactevents"
	"github.com/tollgatehq/tollgate/sim"
)

// contactEventsSink builds the SQS publisher of the simulator's contact
// events (contact_events_queue), or nil when none is configured. The SQS
// client uses the SDK's default chain; with no credentials there (a local
// moto_server accepts any), it signs with dummy ones.
func contactEventsSink(ctx context.Context, cfg sim.Config) (sim.ContactEventSink, error) {
	if cfg.ContactEventsQueue == "" {
		return nil, nil
	}
	region := cfg.Region
	if region == "" {
		region = sim.DefaultRegion
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, err
	}
	awsCfg.HTTPClient = awssdk.HTTPClient(awsCfg.HTTPClient)
	if awsCfg.Credentials == nil {
		awsCfg.Credentials = aws.NewCredentialsCache(staticCreds{})
	} else if _, err := awsCfg.Credentials.Retrieve(ctx); err != nil {
		awsCfg.Credentials = aws.NewCredentialsCache(staticCreds{})
	}
	client := awssqs.NewFromConfig(awsCfg, func(o *awssqs.Options) {
		if cfg.ContactEventsEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.ContactEventsEndpoint)
		}
	})
	url, err := contactevents.ResolveQueue(ctx, client, cfg.ContactEventsQueue, true)
	if err != nil {
		return nil, err
	}
	return contactevents.NewPublisher(client, url), nil
}

// staticCreds are dummy credentials for a local SQS emulator.
type staticCreds struct{}

func (staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDTOLLGATESIM", SecretAccessKey: "sim", Source: "tollgate sim (dummy, for a local SQS)"}, nil
}
