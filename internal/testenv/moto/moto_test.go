package moto_test

import (
	"net/http"
	"testing"

	"github.com/tollgatehq/tollgate/internal/testenv/moto"
)

func TestStartStop(t *testing.T) {
	s := moto.Start(t)
	resp, err := http.Get(s.URL + "/moto-api/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /moto-api/: %s", resp.Status)
	}
	cfg := s.AWSConfig()
	if cfg.Region != moto.Region || *cfg.BaseEndpoint != s.URL {
		t.Fatalf("AWSConfig = %+v", cfg)
	}
	s.Stop()
	if _, err := http.Get(s.URL + "/moto-api/"); err == nil {
		t.Fatal("server still answers after Stop")
	}
	s.Stop() // idempotent
}
