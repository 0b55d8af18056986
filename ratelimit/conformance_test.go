package ratelimit_test

import (
	"testing"

	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/ratelimit/ratelimittest"
)

func TestHierarchyConformance(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T, account ratelimit.Limit, ops map[string]ratelimit.Limit) ratelimit.Limiter {
		return ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Account: account, Ops: ops})
	})
}
