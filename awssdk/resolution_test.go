package awssdk_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/smithy-go/middleware"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
)

func throttleAlways(w http.ResponseWriter, _ *http.Request, _ int) {
	reply(w, 429, map[string]string{"X-Amzn-ErrorType": "ThrottlingException"}, `{"message":"Rate exceeded"}`)
}

func chatLimit(w http.ResponseWriter, _ *http.Request, _ int) {
	reply(w, 429, map[string]string{"X-Amzn-ErrorType": "LimitExceededException"}, `{"Message":"limit"}`)
}

func newGov(o governor.Options) *governor.Governor {
	if o.Rand == nil {
		o.Rand = half{}
	}
	return governor.New(ratelimit.NewHierarchy(ratelimit.HierarchyOptions{}), o)
}

// TestMiddlewareOrder records the Finalize step as the SDK builds it for a
// governed operation: TollgateCall wraps the SDK's Retry loop, and
// TollgateAttempt runs inside it, once per attempt, before the identity is
// fetched and the request signed.
func TestMiddlewareOrder(t *testing.T) {
	var finalize []string
	record := func(s *middleware.Stack) error {
		finalize = s.Finalize.List()
		return nil
	}
	srv := newServer(func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, 200, nil, `{}`) })
	client := connect.NewFromConfig(testConfig(srv), endpoint, awssdk.Govern(newGov(governor.Options{})),
		func(o *connect.Options) { o.APIOptions = append(o.APIOptions, record) })
	if err := calls["ListUsers"](context.Background(), client); err != nil {
		t.Fatal(err)
	}
	t.Logf("Finalize: %v", finalize)
	order := []string{awssdk.CallMiddlewareID, "Retry", awssdk.AttemptMiddlewareID, "ResolveAuthScheme", "GetIdentity", "Signing"}
	last := -1
	for _, id := range order {
		i := slices.Index(finalize, id)
		if i < 0 {
			t.Fatalf("%s not in Finalize step %v", id, finalize)
		}
		if i <= last {
			t.Errorf("%s at %d: want after %s (Finalize step %v)", id, i, order[slices.Index(order, id)-1], finalize)
		}
		last = i
	}
	// Adding the middleware twice (config and client) is harmless.
	cfg := testConfig(srv)
	g := newGov(governor.Options{})
	awssdk.GovernConfig(&cfg, g)
	client = connect.NewFromConfig(cfg, endpoint, awssdk.Govern(g),
		func(o *connect.Options) { o.APIOptions = append(o.APIOptions, record) })
	if err := calls["ListUsers"](context.Background(), client); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, id := range finalize {
		if id == awssdk.CallMiddlewareID || id == awssdk.AttemptMiddlewareID {
			n++
		}
	}
	if n != 2 {
		t.Errorf("governor middlewares appear %d times want 2: %v", n, finalize)
	}
}

// TestRetryerResolution checks which Retryer takes effect when, given that
// connect.New resolves the Retryer before the functional options run.
func TestRetryerResolution(t *testing.T) {
	typeOf := func(c *connect.Client) string { return fmt.Sprintf("%T", c.Options().Retryer) }

	t.Run("RetryMode in an option is ignored (the SDK gotcha)", func(t *testing.T) {
		c := connect.NewFromConfig(testConfig(http.NotFoundHandler()), endpoint,
			func(o *connect.Options) { o.RetryMode = aws.RetryModeAdaptive })
		if _, ok := c.Options().Retryer.(*retry.Standard); !ok {
			t.Errorf("got %s: the SDK changed; RetryMode in optFns now takes effect", typeOf(c))
		}
		cfg := testConfig(http.NotFoundHandler())
		cfg.RetryMode = aws.RetryModeAdaptive
		c = connect.NewFromConfig(cfg, endpoint)
		if _, ok := c.Options().Retryer.(*retry.AdaptiveMode); !ok {
			t.Errorf("got %s want *retry.AdaptiveMode from cfg.RetryMode", typeOf(c))
		}
	})

	t.Run("Retryer in an option takes effect, over any config", func(t *testing.T) {
		for _, cfgFn := range []func(*aws.Config){
			func(*aws.Config) {},
			func(c *aws.Config) { c.RetryMode = aws.RetryModeAdaptive },
			func(c *aws.Config) { c.RetryMaxAttempts = 2 }, // as AWS_MAX_ATTEMPTS=2 would
			func(c *aws.Config) { c.Retryer = func() aws.Retryer { return retry.NewStandard() } },
		} {
			synctest.Test(t, func(t *testing.T) {
				srv := newServer(throttleAlways)
				cfg := testConfig(srv)
				cfgFn(&cfg)
				c := connect.NewFromConfig(cfg, endpoint, awssdk.Govern(newGov(governor.Options{MaxAttempts: 4})))
				if got := c.Options().Retryer.MaxAttempts(); got != 0 {
					t.Errorf("retryer %s MaxAttempts %d: want the governor's retryer, unwrapped", typeOf(c), got)
				}
				err := calls["ListUsers"](context.Background(), c)
				if n := srv.requests(); n != 4 || !errors.Is(err, governor.ErrAttempts) {
					t.Errorf("got %d attempts, %v want the governor's 4 and ErrAttempts", n, err)
				}
			})
		}
	})

	t.Run("per operation", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := newServer(chatLimit)
			c := connect.NewFromConfig(testConfig(srv), endpoint)
			err := calls["StartChatContact"](context.Background(), c)
			if n := srv.requests(); n != 3 || errors.Is(err, awserr.ErrConcurrencyQuota) {
				t.Fatalf("ungoverned: got %d attempts, %v; want the SDK default of 3 (LimitExceeded retried as a throttle)", n, err)
			}
			srv = newServer(chatLimit)
			c = connect.NewFromConfig(testConfig(srv), endpoint)
			_, err = c.StartChatContact(context.Background(), chatInput, awssdk.Govern(newGov(governor.Options{})))
			if n := srv.requests(); n != 1 || !errors.Is(err, awserr.ErrConcurrencyQuota) {
				t.Errorf("governed per operation: got %d attempts, %v want 1 and ErrConcurrencyQuota", n, err)
			}
		})
	})

	t.Run("GovernConfig", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := newServer(chatLimit)
			cfg := testConfig(srv)
			awssdk.GovernConfig(&cfg, newGov(governor.Options{}))
			c := connect.NewFromConfig(cfg, endpoint)
			err := calls["StartChatContact"](context.Background(), c)
			if n := srv.requests(); n != 1 || !errors.Is(err, awserr.ErrConcurrencyQuota) {
				t.Errorf("got %d attempts, %v want 1 and ErrConcurrencyQuota", n, err)
			}
		})
	})
}
