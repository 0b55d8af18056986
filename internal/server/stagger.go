package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/stagger"
)

// DesktopTokenDir is the directory, inside the data directory, of the
// generated desktop token (file "token", mode 0600).
const DesktopTokenDir = "desktop"

// StaggerRoute is the desktop reservation endpoint's pattern: every method,
// so that the handler answers CORS preflights (OPTIONS) itself.
const StaggerRoute = "/v1/stagger/reserve"

// newStagger builds the reservation endpoint: the desktop token (the
// configured one, else DataDir/desktop/token, generated on first start),
// and a start-up bucket sized from table (rates scaled like the limiter's)
// and the configured share and calls. The desktop token authenticates this
// route only; the admin token is not accepted on it.
func newStagger(cfg config.Config, table *quotas.Table, log *slog.Logger) (*stagger.Service, error) {
	dir := filepath.Join(cfg.DataDir, DesktopTokenDir)
	tok, source, err := LoadToken(cfg.Stagger.DesktopToken, dir)
	if err != nil {
		return nil, fmt.Errorf("stagger.desktop_token: %w", err)
	}
	if source == "config" {
		log.Info("desktop token from the configuration")
	} else {
		log.Info("desktop token "+source, "file", filepath.Join(dir, TokenFile)) // never the token itself
	}
	lim, err := stagger.StartUpLimit(stagger.Options{
		Agents: 1, Calls: cfg.Stagger.StaggerCalls(), Share: cfg.Stagger.Share,
		Quotas: table.Scale(cfg.Limits.RateScale),
	})
	if err != nil {
		return nil, fmt.Errorf("stagger: %w", err)
	}
	svc, err := stagger.NewService(stagger.ServiceOptions{Token: tok, Limit: lim, AllowedOrigins: cfg.Stagger.StaggerOrigins()})
	if err != nil {
		return nil, fmt.Errorf("stagger: %w", err)
	}
	log.Info("desktop start-up reservations", "route", "POST "+StaggerRoute, "startups_per_second", lim.Rate, "burst", lim.Burst)
	return svc, nil
}

// staggerHandler counts the endpoint's requests like every other route;
// the Service checks the desktop token itself.
func (s *Server) staggerHandler() http.Handler {
	return s.instrument(StaggerRoute, false, s.stagger.ServeHTTP)
}
