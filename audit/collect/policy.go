package collect

import (
	"encoding/json"
	"sort"
)

// ReadOnlyPolicy returns the IAM policy document (JSON, indented) granting
// every call the audit makes, and nothing that changes the account.
func ReadOnlyPolicy() string {
	var actions []string
	for svc, ops := range Calls {
		for _, op := range ops {
			actions = append(actions, Action(svc, op))
		}
	}
	sort.Strings(actions)
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Sid":      "TollgateAuditReadOnly",
			"Effect":   "Allow",
			"Action":   actions,
			"Resource": "*",
		}},
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b) + "\n"
}
