package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/platform/telemetry"
)

// TestOpsRouter: a work or ingest replica answers probes and scrapes, and
// exposes nothing else.
func TestOpsRouter(t *testing.T) {
	m := telemetry.NewMetrics()
	m.RegisterBuildInfo("1.2.3", "abc", "go1.26")
	down := false
	srv := httptest.NewServer(api.NewOpsRouter(api.OpsConfig{
		Checks: []api.Check{{Name: "redis", Probe: func(context.Context) error {
			if down {
				return errors.New("connection refused")
			}
			return nil
		}}},
		Metrics: m, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}))
	t.Cleanup(srv.Close)
	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, _ := get("/healthz")
	assert.Equal(t, http.StatusOK, code)
	code, _ = get("/readyz")
	assert.Equal(t, http.StatusOK, code)
	down = true
	code, body := get("/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "redis")
	code, body = get("/metrics")
	assert.Equal(t, http.StatusOK, code)
	assert.True(t, strings.Contains(body, `analytics_build_info{commit="abc",goversion="go1.26",version="1.2.3"} 1`), body[:200])
	for _, p := range []string{"/graphql", "/playground", "/v1/events"} {
		code, _ = get(p)
		assert.Equal(t, http.StatusNotFound, code, p)
	}
}
