package sim

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/tollgatehq/tollgate/quotas"
)

// TestInstanceAttributes drives Describe/List/UpdateInstanceAttribute with
// the real connect client: the shapes parse, updates stick, paging covers
// every attribute type once, and bad input gets the model's errors.
func TestInstanceAttributes(t *testing.T) {
	// No throttling in the way: buckets that start full at 1,000 (a
	// SetQuota after New keeps the old burst's tokens, and a fast machine
	// makes more calls than that in a millisecond).
	table := quotas.Default()
	for _, op := range []string{"DescribeInstanceAttribute", "ListInstanceAttributes", "UpdateInstanceAttribute"} {
		a, _ := table.API(op)
		a.Rate, a.Burst = 1000, 1000
		if err := table.SetAPI(a); err != nil {
			t.Fatal(err)
		}
	}
	s := newServer(t, Options{Quotas: table})
	c := newClient(t, s)
	get := func(at types.InstanceAttributeType) string {
		t.Helper()
		out, err := c.DescribeInstanceAttribute(ctx, &connect.DescribeInstanceAttributeInput{InstanceId: inst, AttributeType: at})
		if err != nil {
			t.Fatal(err)
		}
		if out.Attribute == nil || out.Attribute.AttributeType != at || out.Attribute.Value == nil {
			t.Fatalf("attribute %+v", out.Attribute)
		}
		return *out.Attribute.Value
	}
	steps := []struct {
		at   types.InstanceAttributeType
		set  string // "" = only read
		want string
	}{
		{types.InstanceAttributeTypeContactflowLogs, "", "false"},
		{types.InstanceAttributeTypeInboundCalls, "", "true"},
		{types.InstanceAttributeTypeContactflowLogs, "true", "true"},
		{types.InstanceAttributeTypeContactLens, "true", "true"},
		{types.InstanceAttributeTypeContactflowLogs, "false", "false"},
	}
	for i, st := range steps {
		if st.set != "" {
			if _, err := c.UpdateInstanceAttribute(ctx, &connect.UpdateInstanceAttributeInput{InstanceId: inst, AttributeType: st.at, Value: aws.String(st.set)}); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		if got := get(st.at); got != st.want {
			t.Fatalf("step %d: %s = %q, want %q", i, st.at, got, st.want)
		}
	}

	seen := map[types.InstanceAttributeType]string{}
	pages := 0
	p := connect.NewListInstanceAttributesPaginator(c, &connect.ListInstanceAttributesInput{InstanceId: inst, MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range out.Attributes {
			if _, dup := seen[a.AttributeType]; dup {
				t.Fatalf("%s listed twice", a.AttributeType)
			}
			seen[a.AttributeType] = aws.ToString(a.Value)
		}
	}
	if len(seen) != len(types.InstanceAttributeType("").Values()) || pages != 3 {
		t.Fatalf("listed %d attributes in %d pages, want %d in 3", len(seen), pages, len(types.InstanceAttributeType("").Values()))
	}
	if seen[types.InstanceAttributeTypeContactLens] != "true" || seen[types.InstanceAttributeTypeContactflowLogs] != "false" {
		t.Fatalf("list %+v", seen)
	}

	_, err := c.DescribeInstanceAttribute(ctx, &connect.DescribeInstanceAttributeInput{InstanceId: inst, AttributeType: "NOPE"})
	asErr[*types.InvalidRequestException](t, err)
	_, err = c.DescribeInstanceAttribute(ctx, &connect.DescribeInstanceAttributeInput{InstanceId: aws.String("no-such"), AttributeType: types.InstanceAttributeTypeContactflowLogs})
	asErr[*types.ResourceNotFoundException](t, err)
	_, err = c.ListInstanceAttributes(ctx, &connect.ListInstanceAttributesInput{InstanceId: inst, MaxResults: aws.Int32(8)})
	asErr[*types.InvalidRequestException](t, err)
	_, err = c.UpdateInstanceAttribute(ctx, &connect.UpdateInstanceAttributeInput{InstanceId: inst, AttributeType: types.InstanceAttributeTypeContactflowLogs, Value: aws.String("")})
	asErr[*types.InvalidRequestException](t, err)
}
