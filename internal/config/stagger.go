package config

import (
	"strings"

	"github.com/tollgatehq/tollgate/stagger"
)

// Stagger configures serve's start-up reservations for agent desktops
// (POST /v1/stagger/reserve; package stagger).
type Stagger struct {
	// DesktopToken is the bearer token agent desktops present to the
	// reservation endpoint, and nothing else. Empty: read
	// DataDir/desktop/token, or generate it there (owner-only).
	DesktopToken string `yaml:"desktop_token"`
	// Share is the part of each start-up operation's quota left for
	// start-ups, in (0, 1]; 0 means 1.
	Share float64 `yaml:"share"`
	// Calls are the calls one start-up makes ("Op[:count],…"); empty
	// means stagger.DefaultCalls.
	Calls string `yaml:"calls"`
	// Origins are the browser origins allowed to call the endpoint (CORS),
	// comma-separated; "*" allows any; empty sends no CORS headers.
	Origins string `yaml:"origins"`
}

// staggerFields are the Stagger settings.
func (c *Config) staggerFields() []Field {
	return []Field{
		{Key: "stagger.desktop_token", Usage: "bearer token of the desktop reservation endpoint only (default: generated in <data-dir>/desktop/token)", Secret: true, ptr: &c.Stagger.DesktopToken},
		{Key: "stagger.share", Flag: "stagger-share", Usage: "part of each start-up operation's quota left for desktop start-ups, in (0, 1] (0 = 1)", ptr: &c.Stagger.Share},
		{Key: "stagger.calls", Flag: "stagger-calls", Usage: "calls one desktop start-up makes, Op[:count] comma-separated (default GetCurrentUserData,ListUsers,DescribeUser)", ptr: &c.Stagger.Calls},
		{Key: "stagger.origins", Flag: "stagger-origins", Usage: "browser origins allowed to ask for reservations (CORS), comma-separated, or *", ptr: &c.Stagger.Origins},
	}
}

// validateStagger checks the Stagger settings.
func (c Config) validateStagger(bad func(field, format string, args ...any)) {
	s := c.Stagger
	if s.DesktopToken != "" {
		if len(s.DesktopToken) < 16 || len(s.DesktopToken) > 256 {
			bad("stagger.desktop_token", "must be 16-256 characters (its value is not shown)")
		} else if s.DesktopToken == c.Token {
			bad("stagger.desktop_token", "must differ from token: desktops must not hold the admin token")
		}
	}
	if s.Share != 0 && !(s.Share > 0 && s.Share <= 1) {
		bad("stagger.share", "must be in (0, 1], got %v", s.Share)
	}
	if strings.TrimSpace(s.Calls) != "" {
		if _, err := stagger.ParseCalls(s.Calls); err != nil {
			bad("stagger.calls", "%s", strings.TrimPrefix(err.Error(), "calls: "))
		}
	}
}

// StaggerCalls returns the configured start-up calls (nil: the default).
func (s Stagger) StaggerCalls() []stagger.Call {
	if strings.TrimSpace(s.Calls) == "" {
		return nil
	}
	calls, _ := stagger.ParseCalls(s.Calls)
	return calls
}

// StaggerOrigins returns the configured CORS origins.
func (s Stagger) StaggerOrigins() []string {
	var out []string
	for _, o := range strings.Split(s.Origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}
