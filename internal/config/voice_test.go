package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestVoiceSettings(t *testing.T) {
	d := Default().Dispatch.Voice
	if !d.CallPacing || d.CallReserve != 0 || d.MaxCallDuration != time.Hour || d.ContactPoll != 5*time.Second {
		t.Fatalf("defaults %+v", d)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(file, []byte("dispatch:\n  call_reserve: 2\n  contact_events_queue: connect-events\n  max_call_duration: 10m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Sources{File: file, LookupEnv: func(k string) (string, bool) {
		if k == "TOLLGATE_DISPATCH_CALL_PACING" {
			return "false", true
		}
		return "", false
	}})
	if err != nil {
		t.Fatal(err)
	}
	if v := c.Dispatch.Voice; v.CallPacing || v.CallReserve != 2 || v.ContactEventsQueue != "connect-events" || v.MaxCallDuration != 10*time.Minute {
		t.Fatalf("loaded %+v", v)
	}
	for i, st := range []struct {
		yaml, want string
	}{
		{"dispatch:\n  call_reserve: -1\n", "dispatch.call_reserve"},
		{"dispatch:\n  max_call_duration: 0s\n", "dispatch.max_call_duration"},
		{"dispatch:\n  contact_poll: 1ms\n", "dispatch.contact_poll"},
		{"dispatch:\n  contact_events_endpoint: http://127.0.0.1:5055\n", "dispatch.contact_events_endpoint"},
	} {
		if err := os.WriteFile(file, []byte(st.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(Sources{File: file}); err == nil || !strings.Contains(err.Error(), st.want) {
			t.Errorf("step %d: got %v want an error naming %s", i, err, st.want)
		}
	}
}
