package audit

import (
	"fmt"
	"strings"
)

// Severity ranks findings; higher is worse.
type Severity int

// Severities.
const (
	Low Severity = iota + 1
	Medium
	High
)

func (s Severity) String() string {
	switch s {
	case High:
		return "high"
	case Medium:
		return "medium"
	case Low:
		return "low"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "high":
		*s = High
	case "medium":
		*s = Medium
	case "low":
		*s = Low
	default:
		return fmt.Errorf("severity %q: want high, medium or low", b)
	}
	return nil
}

// Finding is one rule failing on one resource.
type Finding struct {
	Rule       string   `json:"rule"`
	Severity   Severity `json:"severity"`
	Resource   string   `json:"resource"` // ARN or name of what to change
	Reason     string   `json:"reason"`   // why the rule exists, one sentence
	Evidence   Evidence `json:"evidence"`
	Assumption string   `json:"assumption,omitempty"` // what a sizing rule assumed
	Fix        Fix      `json:"fix"`
}

// Evidence is the value found against the value expected.
type Evidence struct {
	Field    string `json:"field"`
	Found    string `json:"found"`
	Expected string `json:"expected"`
}

// Fix is how to make the finding go away.
type Fix struct {
	// Commands are the aws CLI commands, in order; without --region and
	// --endpoint-url, which CommandLine adds.
	Commands       []Command `json:"-"`
	CLI            []string  `json:"cli"` // Commands rendered by Check
	CloudFormation string    `json:"cloudformation"`
	Terraform      string    `json:"terraform"`
	Note           string    `json:"note,omitempty"`
}

// Command is one aws CLI command: aws <Service> <Args…>.
type Command struct {
	Service string   // CLI service name: sqs, lambda, iam, events, scheduler, cloudtrail, connect, s3api
	Args    []string // the operation and its arguments
}

// endpointService maps a CLI service name to the SDK service id whose
// endpoint it uses.
var endpointService = map[string]string{"events": "eventbridge", "s3api": "s3"}

// CommandLine renders c as one shell command line for region, with
// --endpoint-url when endpoints names one for the command's service (by SDK
// service id: sqs, lambda, iam, eventbridge, scheduler, cloudtrail,
// connect, s3).
func CommandLine(c Command, region string, endpoints map[string]string) string {
	parts := []string{"aws", c.Service}
	for _, a := range c.Args {
		parts = append(parts, ShellQuote(a))
	}
	if region != "" {
		parts = append(parts, "--region", ShellQuote(region))
	}
	svc := c.Service
	if s, ok := endpointService[svc]; ok {
		svc = s
	}
	if u := endpoints[svc]; u != "" {
		parts = append(parts, "--endpoint-url", ShellQuote(u))
	}
	return strings.Join(parts, " ")
}

// ShellQuote quotes s for a POSIX shell when it needs quoting.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
