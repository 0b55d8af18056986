package app

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/sqlitestore"
	"github.com/tollgatehq/tollgate/queue/sqs"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/quotas/quotafile"
)

// QueueFile is the embedded queue's file in the data directory.
const QueueFile = "queue.db"

// quotaTable is the published table with the quota file's overrides
// (unscaled; NewAdmission scales it).
func quotaTable(l config.Limits, region string) (*quotas.Table, error) {
	t := quotas.Default()
	if l.QuotaFile == "" {
		return t, nil
	}
	ov, err := quotafile.Load(l.QuotaFile)
	if err != nil {
		return nil, fmt.Errorf("limits.quota_file: %w", err)
	}
	if err := t.Apply(ov, l.Account, region); err != nil {
		return nil, fmt.Errorf("limits.quota_file: %w", err)
	}
	return t, nil
}

// openQueue opens the configured queue backend: Amazon SQS, or the
// embedded store in the data directory.
func openQueue(ctx context.Context, cfg config.Config, awsCfg aws.Config) (queue.Queue, error) {
	qc := cfg.Queue
	switch qc.Backend {
	case "sqs":
		c := awsCfg.Copy()
		client := awssqs.NewFromConfig(c, func(o *awssqs.Options) {
			if qc.SQS.Endpoint != "" {
				o.BaseEndpoint = aws.String(qc.SQS.Endpoint)
			}
		})
		so := sqs.Options{
			QueueName:       queueName(qc.SQS.QueueURL),
			DeadLetterName:  queueName(qc.SQS.DLQURL),
			MaxReceives:     qc.MaxReceives,
			MaxFreeRequeues: qc.MaxFreeRequeues,
			WaitTime:        qc.SQS.WaitTime,
		}
		if isURL(qc.SQS.QueueURL) && isURL(qc.SQS.DLQURL) {
			// Both queues given by URL: use them as provisioned, create nothing.
			so.QueueURL, so.DeadLetterURL = qc.SQS.QueueURL, qc.SQS.DLQURL
		}
		q, err := sqs.Open(ctx, client, so)
		if err != nil {
			return nil, fmt.Errorf("queue.sqs: %w", err)
		}
		return q, nil
	default:
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data_dir: %w", err)
		}
		q, err := sqlitestore.Open(filepath.Join(cfg.DataDir, QueueFile), sqlitestore.Options{
			MaxReceives:     qc.MaxReceives,
			MaxFreeRequeues: qc.MaxFreeRequeues,
		})
		if err != nil {
			return nil, fmt.Errorf("queue (embedded): %w", err)
		}
		return q, nil
	}
}

// isURL reports whether v is an absolute URL rather than a bare queue name.
func isURL(v string) bool {
	u, err := url.Parse(v)
	return v != "" && err == nil && u.Scheme != "" && u.Host != ""
}

// queueName takes a queue URL or a bare name and returns the name.
func queueName(v string) string {
	if v == "" {
		return ""
	}
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
		return path.Base(strings.TrimRight(u.Path, "/"))
	}
	return v
}
