package config

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Poll configures the metrics poller ("poll once, serve many"): named
// Connect reads polled on a schedule into the cache that GET /v1/metrics,
// the events stream and the dashboard read.
//
// In YAML:
//
//	poll:
//	  share: 0.5                # of each operation's quota, all its queries together
//	  queries:
//	    - name: queues
//	      op: GetCurrentMetricData
//	      interval: 5s
//	      input: {InstanceId: "…", Filters: {Queues: ["…"], Channels: [VOICE]},
//	              CurrentMetrics: [{Name: AGENTS_AVAILABLE, Unit: COUNT}]}
//
// For the simple case, Instance (--poll-instance) and Queues
// (--poll-queues) add a query named "queues": GetCurrentMetricData of the
// usual wallboard figures every Interval (--poll-interval).
type Poll struct {
	// Share is the share of each operation's quota the queries may use
	// together (0 < share ≤ 1). Default 0.5.
	Share float64 `yaml:"share"`
	// Instance, with Queues, adds the "queues" query.
	Instance string `yaml:"instance"`
	// Queues are queue ids, comma-separated.
	Queues string `yaml:"queues"`
	// Interval is the "queues" query's interval. Default 5s.
	Interval time.Duration `yaml:"interval"`
	// Queries are the named queries.
	Queries PollQueries `yaml:"queries"`
}

// PollQuery is one named, scheduled read.
type PollQuery struct {
	Name     string          `yaml:"name"`
	Op       string          `yaml:"op"`
	Interval time.Duration   `yaml:"interval"`
	Input    json.RawMessage `yaml:"input"`
}

// QueuesQuery is the name of the query Poll.Instance and Poll.Queues add.
const QueuesQuery = "queues"

// WallboardMetrics are the figures of the "queues" query.
var WallboardMetrics = []string{"AGENTS_ONLINE", "AGENTS_AVAILABLE", "AGENTS_ON_CONTACT", "CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE"}

// EffectiveQueries are Queries, with the "queues" query first when
// Instance and Queues are set.
func (p Poll) EffectiveQueries() []PollQuery {
	if p.Instance == "" || p.Queues == "" {
		return p.Queries
	}
	var queues []string
	for _, q := range strings.Split(p.Queues, ",") {
		if q = strings.TrimSpace(q); q != "" {
			queues = append(queues, q)
		}
	}
	type metric struct{ Name, Unit string }
	var ms []metric
	for _, m := range WallboardMetrics {
		unit := "COUNT"
		if m == "OLDEST_CONTACT_AGE" {
			unit = "SECONDS"
		}
		ms = append(ms, metric{m, unit})
	}
	in, _ := json.Marshal(map[string]any{
		"InstanceId":     p.Instance,
		"Filters":        map[string]any{"Queues": queues, "Channels": []string{"VOICE"}},
		"CurrentMetrics": ms,
	})
	return append([]PollQuery{{Name: QueuesQuery, Op: "GetCurrentMetricData", Interval: p.Interval, Input: in}}, p.Queries...)
}

var pollNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// MaxPollQueries bounds poll.queries.
const MaxPollQueries = 200

// validate adds the poll section's problems (the poller checks the
// operations and the quota share at start).
func (p Poll) validate(bad func(field, format string, args ...any)) {
	if !(p.Share > 0 && p.Share <= 1) {
		bad("poll.share", "must be > 0 and at most 1, got %v", p.Share)
	}
	if (p.Instance == "") != (p.Queues == "") {
		bad("poll.instance", "poll.instance and poll.queues go together (both or neither)")
	}
	if p.Interval < 100*time.Millisecond {
		bad("poll.interval", "must be at least 100ms, got %v", p.Interval)
	}
	if len(p.Queries) > MaxPollQueries {
		bad("poll.queries", "at most %d queries, got %d", MaxPollQueries, len(p.Queries))
	}
	seen := map[string]bool{}
	for i, q := range p.EffectiveQueries() {
		f := fmt.Sprintf("poll.queries[%d]", i)
		if q.Name != "" {
			f = fmt.Sprintf("poll.queries[%s]", q.Name)
		}
		switch {
		case !pollNameRE.MatchString(q.Name):
			bad(f+".name", "must be 1-64 characters of A-Z a-z 0-9 _ . -, got %q", q.Name)
		case seen[q.Name]:
			bad(f+".name", "is used twice")
		}
		seen[q.Name] = true
		if q.Op == "" {
			bad(f+".op", "is required (e.g. GetCurrentMetricData)")
		}
		if q.Interval < 100*time.Millisecond {
			bad(f+".interval", "must be at least 100ms, got %v", q.Interval)
		}
	}
}

// parsePollQueries reads the poll.queries list from the file.
// PollQueries are poll.queries: a list set only in the configuration file.
type PollQueries []PollQuery

// parseNode implements nodeParser.
func (q *PollQueries) parseNode(n *yaml.Node, where func(*yaml.Node) string) error {
	qs, err := parsePollQueries(n, where)
	if err != nil {
		return err
	}
	*q = qs
	return nil
}

func parsePollQueries(n *yaml.Node, where func(*yaml.Node) string) ([]PollQuery, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, &FieldError{Field: "poll.queries", Source: where(n), Problem: "must be a list of queries"}
	}
	var out []PollQuery
	for i, item := range n.Content {
		field := fmt.Sprintf("poll.queries[%d]", i)
		if item.Kind != yaml.MappingNode {
			return nil, &FieldError{Field: field, Source: where(item), Problem: "must be a mapping with name, op, interval and input"}
		}
		var q PollQuery
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, v := item.Content[j], item.Content[j+1]
			scalar := func() (string, error) {
				if v.Kind != yaml.ScalarNode {
					return "", &FieldError{Field: field + "." + k.Value, Source: where(v), Problem: "must be a single value"}
				}
				return v.Value, nil
			}
			var err error
			switch k.Value {
			case "name":
				q.Name, err = scalar()
			case "op":
				q.Op, err = scalar()
			case "interval":
				var s string
				if s, err = scalar(); err == nil {
					if q.Interval, err = time.ParseDuration(strings.TrimSpace(s)); err != nil {
						err = &FieldError{Field: field + ".interval", Source: where(v), Problem: fmt.Sprintf("must be a duration such as 5s, got %q", s)}
					}
				}
			case "input":
				var doc any
				if err = v.Decode(&doc); err != nil {
					err = &FieldError{Field: field + ".input", Source: where(v), Problem: err.Error()}
					break
				}
				if _, ok := doc.(map[string]any); !ok {
					err = &FieldError{Field: field + ".input", Source: where(v), Problem: "must be a mapping (the operation's input document)"}
					break
				}
				if q.Input, err = json.Marshal(doc); err != nil {
					err = &FieldError{Field: field + ".input", Source: where(v), Problem: err.Error()}
				}
			default:
				err = &FieldError{Field: field + "." + k.Value, Source: where(k), Problem: "is not a setting (want name, op, interval, input)"}
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, q)
	}
	return out, nil
}
