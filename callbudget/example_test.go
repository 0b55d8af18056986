package callbudget_test

import (
	"context"
	"fmt"

	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// A dialer holds a slot from before StartOutboundVoiceContact until the
// contact's end is learned.
func Example() {
	b := callbudget.New(callbudget.Options{Limit: 10, Reserve: 2}) // quota 10, 2 left for inbound calls
	ctx := context.Background()
	slot, err := b.Acquire(ctx, "instance-1", ratelimit.PriorityNormal)
	if err != nil {
		panic(err)
	}
	slot.Start("contact-1") // StartOutboundVoiceContact answered ContactId contact-1
	quota, budget := b.Limit("instance-1")
	fmt.Println("quota", quota, "budget", budget, "in progress", b.Active("instance-1"))
	b.End("contact-1") // a DISCONNECTED event, or DescribeContact's DisconnectTimestamp
	fmt.Println("in progress", b.Active("instance-1"))
	// Output:
	// quota 10 budget 8 in progress 1
	// in progress 0
}
