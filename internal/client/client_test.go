package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/internal/client"
)

// fakeServe answers like tollgate serve: 401 without the token, a refused
// submission naming the job, else the accepted jobs.
func fakeServe(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer right-token" {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(api.ErrorBody{Error: api.ErrorDetail{Code: "unauthorized", Message: "wrong bearer token"}})
			return
		}
		var jobs []api.JobSpec
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &jobs); err != nil || len(jobs) == 0 || jobs[0].Op == "" {
			i := 0
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(api.ErrorBody{Error: api.ErrorDetail{Code: "invalid_job", Message: "op is required", Index: &i, Field: "op"}})
			return
		}
		out := api.SubmitResponse{Accepted: len(jobs)}
		for i, j := range jobs {
			out.Jobs = append(out.Jobs, api.SubmittedID{ID: fmt.Sprintf("job-%d", i), ClientToken: j.ClientToken, Status: "ready"})
		}
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestSubmitAndErrors(t *testing.T) {
	s := fakeServe(t)
	ctx := context.Background()
	c := &client.Client{BaseURL: s.URL, Token: "right-token"}
	res, err := c.Submit(ctx, []api.JobSpec{{Op: "ListQueues", ClientToken: "t-1"}})
	if err != nil || res.Accepted != 1 || res.Jobs[0].ClientToken != "t-1" {
		t.Fatalf("submit: %+v %v", res, err)
	}
	type step struct {
		c      *client.Client
		jobs   []api.JobSpec
		status int
		code   string
		field  string
	}
	for i, st := range []step{
		{&client.Client{BaseURL: s.URL, Token: "wrong"}, []api.JobSpec{{Op: "ListQueues"}}, 401, "unauthorized", ""},
		{c, []api.JobSpec{{}}, 400, "invalid_job", "op"},
	} {
		_, err := st.c.Submit(ctx, st.jobs)
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != st.status || ae.Code != st.code || ae.Field != st.field {
			t.Errorf("step %d: got %v want HTTP %d %s field %q", i, err, st.status, st.code, st.field)
		}
	}
}
