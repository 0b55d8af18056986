package redis

import "testing"

func TestStartRestart(t *testing.T) {
	s := Start(t, Options{})
	port := s.Port
	s.Kill()
	s.Restart()
	if s.Port != port {
		t.Errorf("restart port: got %d want %d", s.Port, port)
	}
	if s.URL() != "redis://"+s.Addr {
		t.Errorf("URL: got %q", s.URL())
	}
}
