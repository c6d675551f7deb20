package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/telemetry"
)

// TestPlaygroundTokenOnlyForLocalBrowsers: the dev admin token is in the
// playground page only for a browser on this machine; a remote client, a
// request through a proxy and a DNS-rebound host name get the page without
// it.
func TestPlaygroundTokenOnlyForLocalBrowsers(t *testing.T) {
	const devToken = "dev-admin-token-xyz"
	verifier, err := auth.NewHMACVerifier(testSecret, auth.VerifyOptions{})
	require.NoError(t, err)
	h := api.NewRouter(api.RouterConfig{GraphQL: http.NotFoundHandler(), Verifier: verifier, DevToken: devToken,
		Metrics: telemetry.NewMetrics(), Log: slog.New(slog.DiscardHandler)})
	for _, tc := range []struct {
		name       string
		remoteAddr string
		host       string
		headers    map[string]string
		token      bool
	}{
		{"loopback v4", "127.0.0.1:50000", "localhost:8080", nil, true},
		{"loopback v6", "[::1]:50000", "[::1]:8080", nil, true},
		{"loopback by ip host", "127.0.0.1:50000", "127.0.0.1:8080", nil, true},
		{"remote client", "203.0.113.7:50000", "analytics.example.com:8080", nil, false},
		{"remote client, loopback host header", "192.168.1.20:50000", "localhost:8080", nil, false},
		{"through a proxy on this host", "127.0.0.1:50000", "localhost:8080", map[string]string{"X-Forwarded-For": "203.0.113.7"}, false},
		{"through a Forwarded proxy", "127.0.0.1:50000", "localhost:8080", map[string]string{"Forwarded": "for=203.0.113.7"}, false},
		{"dns rebinding", "127.0.0.1:50000", "attacker.example:8080", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/playground", nil)
			req.RemoteAddr = tc.remoteAddr
			req.Host = tc.host
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Contains(t, string(body), "<html")
			if tc.token {
				assert.Contains(t, string(body), devToken)
				assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			} else {
				assert.NotContains(t, string(body), devToken)
			}
		})
	}
}
