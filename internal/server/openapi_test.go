package server_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/queue"
)

type openAPIDoc struct {
	Paths      map[string]map[string]struct{ Responses map[string]any } `yaml:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]any `yaml:"properties"`
		} `yaml:"schemas"`
	} `yaml:"components"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("internal/api/openapi.yaml: %v", err)
	}
	return doc
}

// docPattern turns a mux pattern into the document's "METHOD /path".
func docPattern(p string) string {
	return strings.Replace(p, "/{$}", "/", 1)
}

// statusRecorder notes the pattern that served each request and its status.
type statusRecorder struct {
	h    http.Handler
	seen map[string]map[int]bool
}

func (s *statusRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, r) // the mux sets r.Pattern
	p := r.Pattern
	if p == "" || p == "/" {
		return
	}
	if !strings.Contains(p, " ") { // a method-less pattern: the stagger route, POST and OPTIONS
		m := r.Method
		if m != http.MethodOptions {
			m = http.MethodPost // other methods get the 405 documented under post
		}
		p = m + " " + p
	}
	p = docPattern(p)
	if s.seen[p] == nil {
		s.seen[p] = map[int]bool{}
	}
	s.seen[p][rec.Code] = true
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// TestOpenAPI checks internal/api/openapi.yaml against the handlers: the
// same routes, the JSON fields of the bodies, and every status code the
// requests below get.
func TestOpenAPI(t *testing.T) {
	doc := loadOpenAPI(t)
	s, _ := newServer(t, newSim(t), func(c *config.Config) { c.MaxBodyBytes = 64 << 10 })

	var inDoc []string
	for path, ops := range doc.Paths {
		for method := range ops {
			inDoc = append(inDoc, strings.ToUpper(method)+" "+path)
		}
	}
	var routed []string
	for _, p := range s.Patterns() {
		if p == "/" {
			continue // the 404/405 fallback
		}
		routed = append(routed, docPattern(p))
	}
	routed = append(routed, "OPTIONS /v1/stagger/reserve") // the stagger service's CORS preflight
	sort.Strings(inDoc)
	sort.Strings(routed)
	if !slices.Equal(inDoc, routed) {
		t.Errorf("routes differ:\n document %v\n handlers %v", inDoc, routed)
	}

	schemas := map[string]any{
		"JobSpec": api.JobSpec{}, "Job": queue.Job{}, "ErrorDetail": api.ErrorDetail{}, "ErrorBody": api.ErrorBody{},
		"SubmittedID": api.SubmittedID{}, "SubmitResponse": api.SubmitResponse{}, "PartialSubmit": api.PartialSubmit{},
		"PurgeRequest": api.PurgeRequest{}, "PurgeResponse": api.PurgeResponse{}, "LookupRequest": api.LookupRequest{},
		"LookupResponse": api.LookupResponse{}, "DeadLettersResponse": api.DeadLettersResponse{},
		"RedriveRequest": api.RedriveRequest{}, "RedriveResponse": api.RedriveResponse{}, "StatsResponse": api.StatsResponse{},
		"PoolStats": api.PoolStats{},
	}
	for name, v := range schemas {
		var fields []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if tag != "" && tag != "-" {
				fields = append(fields, tag)
			}
		}
		var props []string
		for p := range doc.Components.Schemas[name].Properties {
			props = append(props, p)
		}
		sort.Strings(fields)
		sort.Strings(props)
		if !slices.Equal(fields, props) {
			t.Errorf("schema %s: document has %v, %T has %v", name, props, v, fields)
		}
	}

	rec := &statusRecorder{h: s.Handler(), seen: map[string]map[int]bool{}}
	good := idLine("oa-1", "+12065550100", "")
	big := strings.Repeat(" ", 70<<10)
	tok := testToken
	steps := []struct {
		method, path, token, body string
		want                      int
	}{
		{"POST", "/v1/jobs", tok, good, 202},
		{"POST", "/v1/jobs", tok, good, 202},
		{"POST", "/v1/jobs", tok, idLine("oa-1", "+12065550199", ""), 409},
		{"POST", "/v1/jobs", tok, `{"op":"NoSuchOp"}`, 400},
		{"POST", "/v1/jobs", "", good, 401},
		{"POST", "/v1/jobs", tok, big, 413},
		{"GET", "/v1/jobs/oa-1", tok, "", 200},
		{"GET", "/v1/jobs/nope", tok, "", 404},
		{"GET", "/v1/jobs/bad%20id", tok, "", 400},
		{"GET", "/v1/jobs/oa-1", "", "", 401},
		{"POST", "/v1/jobs", tok, idLine("oa-2", "+12065550101", "") + "\n" + idLine("oa-3", "+12065550102", ""), 202},
		{"POST", "/v1/jobs/oa-2/cancel", tok, "", 200},
		{"POST", "/v1/jobs/oa-2/cancel", tok, "", 409},
		{"POST", "/v1/jobs/nope/cancel", tok, "", 404},
		{"POST", "/v1/jobs/bad%20id/cancel", tok, "", 400},
		{"POST", "/v1/jobs/oa-2/cancel", "", "", 401},
		{"POST", "/v1/jobs/purge", tok, `{"status":"delayed"}`, 200},
		{"POST", "/v1/jobs/purge", tok, `{"status":"dead"}`, 400},
		{"POST", "/v1/jobs/purge", tok, big, 413},
		{"POST", "/v1/jobs/purge", "", "", 401},
		{"POST", "/v1/jobs/lookup", tok, `{"ids":["oa-1","oa-3","nope"]}`, 200},
		{"POST", "/v1/jobs/lookup", tok, `{"ids":[]}`, 400},
		{"POST", "/v1/jobs/lookup", tok, big, 413},
		{"POST", "/v1/jobs/lookup", "", `{"ids":["oa-1"]}`, 401},
		{"GET", "/v1/stats", tok, "", 200},
		{"GET", "/v1/stats", "", "", 401},
		{"GET", "/v1/ops", tok, "", 200},
		{"GET", "/v1/ops", "", "", 401},
		{"GET", "/v1/dlq", tok, "", 200},
		{"GET", "/v1/dlq?limit=0", tok, "", 400},
		{"GET", "/v1/dlq", "", "", 401},
		{"GET", "/v1/dlq/oa-2", tok, "", 200},
		{"GET", "/v1/dlq/oa-1", tok, "", 404},
		{"GET", "/v1/dlq/bad%20id", tok, "", 400},
		{"GET", "/v1/dlq/oa-2", "", "", 401},
		{"POST", "/v1/dlq/redrive", tok, `{"ids":["oa-2"]}`, 200},
		{"POST", "/v1/dlq/redrive", tok, `{}`, 400},
		{"POST", "/v1/dlq/redrive", tok, big, 413},
		{"POST", "/v1/dlq/redrive", "", `{"all":true}`, 401},
		{"GET", "/metrics", tok, "", 200},
		{"GET", "/metrics", "", "", 401},
		{"GET", "/healthz", "", "", 200},
		{"GET", "/v1/metrics", tok, "", 200},
		{"GET", "/v1/metrics", "", "", 401},
		{"GET", "/v1/metrics/nope", tok, "", 404},
		{"GET", "/v1/metrics/nope", "", "", 401},
		{"GET", "/v1/state", tok, "", 200},
		{"GET", "/v1/state", "", "", 401},
		{"GET", "/v1/events", "", "", 401},
		{"GET", "/assets/nope.js", tok, "", 404},
		{"GET", "/assets/nope.js", "", "", 401},
		{"GET", "/", "", "", 401},
		{"POST", "/login", "", "token=wrong", 401},
		{"POST", "/login", "", "token=" + tok, 303},
		{"POST", "/logout", "", "", 303},
		{"POST", "/v1/stagger/reserve", "", `{"login":"a"}`, 401},
		{"GET", "/v1/stagger/reserve", "", "", 405},
		{"OPTIONS", "/v1/stagger/reserve", "", "", 204},
	}
	for i, st := range steps {
		req := httptest.NewRequest(st.method, st.path, strings.NewReader(st.body))
		if st.token != "" {
			req.Header.Set("Authorization", "Bearer "+st.token)
		}
		if st.path == "/login" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		w := httptest.NewRecorder()
		rec.ServeHTTP(w, req)
		if w.Code != st.want {
			t.Errorf("step %d: %s %s: got %d want %d: %s", i, st.method, st.path, w.Code, st.want, w.Body.String())
		}
	}
	checked := 0
	for pattern, codes := range rec.seen {
		method, path, _ := strings.Cut(pattern, " ")
		op, ok := doc.Paths[path][strings.ToLower(method)]
		if !ok {
			t.Errorf("%s is served but not in the document", pattern)
			continue
		}
		for code := range codes {
			checked++
			if _, ok := op.Responses[strconv.Itoa(code)]; !ok {
				t.Errorf("%s answered %d, which the document does not list", pattern, code)
			}
		}
	}
	t.Logf("%d routes, %d (route, status) pairs exercised and found in the document", len(routed), checked)
}
