package sim

import (
	"strings"
	"testing"
)

// TestRouteFromTable: every row of the operation table routes to itself,
// with its labels unescaped; near misses do not route.
func TestRouteFromTable(t *testing.T) {
	for i := range ops {
		path := strings.NewReplacer("{InstanceId}", "inst%2F1", "{UserId}", "u-1", "{id}", "c-1").Replace(ops[i].uri)
		op, labels, ok := route(ops[i].method, path)
		if !ok || op != opID(i) {
			t.Fatalf("%s %s: got op %d ok %v, want %s", ops[i].method, path, op, ok, ops[i].name)
		}
		if strings.Contains(ops[i].uri, "{InstanceId}") && labels[0] != "inst/1" {
			t.Errorf("%s: label %q, want inst/1", ops[i].name, labels[0])
		}
	}
	type step struct {
		method, path string
		want         string // "" when it must not route
		labels       [2]string
	}
	for i, st := range []step{
		{"GET", "/users/i-1/u-2", "DescribeUser", [2]string{"i-1", "u-2"}},
		{"PUT", "/users/i-1", "CreateUser", [2]string{"i-1"}},
		{"GET", "/instance", "ListInstances", [2]string{}},
		{"PUT", "/instance", "CreateInstance", [2]string{}},
		{"PUT", "/campaigns/c%201/dial-requests", "PutDialRequestBatch", [2]string{"c 1"}},
		{"POST", "/users/i-1/u-2", "", [2]string{}},   // wrong method
		{"GET", "/instance/", "", [2]string{}},        // empty label
		{"GET", "/instance/%zz", "", [2]string{}},     // bad escape
		{"GET", "/a/b/c/d/e", "", [2]string{}},        // too deep
		{"POST", "/metrics/current", "", [2]string{}}, // label missing
		{"POST", "/contact/stop/x", "", [2]string{}},  // extra segment
		{"GET", "", "", [2]string{}},                  // no path
		{"PUT", "/campaigns/c/dial", "", [2]string{}}, // wrong literal
	} {
		op, labels, ok := route(st.method, st.path)
		if st.want == "" {
			if ok {
				t.Errorf("step %d: %s %s routed to %s", i, st.method, st.path, ops[op].name)
			}
			continue
		}
		if !ok || ops[op].name != st.want || labels != st.labels {
			t.Errorf("step %d: %s %s: got %v %v %q, want %s %q", i, st.method, st.path, op, ok, labels, st.want, st.labels)
		}
	}
}
