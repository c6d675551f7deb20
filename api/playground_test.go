package api_test

import (
	"encoding/json"
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
	"github.com/learnhub/analytics-service/web"
)

// TestPlaygroundIsSelfHostedGraphiQL: /playground is the GraphiQL page of
// the embedded console build (no CDN, scripts from this origin only), and
// the dev admin token it pre-fills is answered at web.DevTokenPath only to a
// browser on this machine; a remote client, a request through a proxy and a
// DNS-rebound host name get 404 there. The page never carries the token.
func TestPlaygroundIsSelfHostedGraphiQL(t *testing.T) {
	const devToken = "dev-admin-token-xyz"
	verifier, err := auth.NewHMACVerifier(testSecret, auth.VerifyOptions{})
	require.NoError(t, err)
	h := api.NewRouter(api.RouterConfig{GraphQL: http.NotFoundHandler(), Verifier: verifier, DevToken: devToken,
		Metrics: telemetry.NewMetrics(), Log: slog.New(slog.DiscardHandler)})
	get := func(path, remoteAddr, host string, headers map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = remoteAddr
		req.Host = host
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
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
		{"loopback, fully qualified localhost.", "127.0.0.1:50000", "LOCALHOST.:8080", nil, true},
		{"remote client", "203.0.113.7:50000", "analytics.example.com:8080", nil, false},
		{"remote client, loopback host header", "192.168.1.20:50000", "localhost:8080", nil, false},
		{"through a proxy on this host", "127.0.0.1:50000", "localhost:8080", map[string]string{"X-Forwarded-For": "203.0.113.7"}, false},
		{"through a Forwarded proxy", "127.0.0.1:50000", "localhost:8080", map[string]string{"Forwarded": "for=203.0.113.7"}, false},
		{"through an X-Real-Ip proxy", "127.0.0.1:50000", "localhost:8080", map[string]string{"X-Real-Ip": "203.0.113.7"}, false},
		{"dns rebinding", "127.0.0.1:50000", "attacker.example:8080", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := get("/playground", tc.remoteAddr, tc.host, tc.headers)
			require.Equal(t, http.StatusOK, page.Code)
			body, _ := io.ReadAll(page.Body)
			assert.Contains(t, string(body), `<div id="graphiql">`)
			assert.Contains(t, string(body), `src="/assets/playground.js"`)
			assert.NotContains(t, string(body), "https://", "no CDN")
			assert.NotContains(t, string(body), devToken, "the token is fetched by the page, never in its markup")
			assert.Equal(t, web.PlaygroundCSP, page.Header().Get("Content-Security-Policy"))

			tok := get(web.DevTokenPath, tc.remoteAddr, tc.host, tc.headers)
			if !tc.token {
				assert.Equal(t, http.StatusNotFound, tok.Code)
				assert.NotContains(t, tok.Body.String(), devToken)
				return
			}
			require.Equal(t, http.StatusOK, tok.Code)
			var got map[string]string
			require.NoError(t, json.Unmarshal(tok.Body.Bytes(), &got))
			assert.Equal(t, devToken, got["token"])
			assert.Equal(t, "no-store", tok.Header().Get("Cache-Control"))
		})
	}

	// The script the page loads and the console at / come from the same build.
	assert.Equal(t, http.StatusOK, get("/assets/playground.js", "203.0.113.7:1", "analytics.example.com", nil).Code)
	root := get("/", "203.0.113.7:1", "analytics.example.com", nil)
	assert.Equal(t, http.StatusOK, root.Code)
	assert.Equal(t, web.CSP, root.Header().Get("Content-Security-Policy"))

	// Without dev mode nobody is offered a token, loopback included.
	plain := api.NewRouter(api.RouterConfig{GraphQL: http.NotFoundHandler(), Verifier: verifier,
		Metrics: telemetry.NewMetrics(), Log: slog.New(slog.DiscardHandler)})
	req := httptest.NewRequest(http.MethodGet, web.DevTokenPath, nil)
	req.RemoteAddr, req.Host = "127.0.0.1:50000", "localhost:8080"
	rec := httptest.NewRecorder()
	plain.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusNotFound, rec.Code)
}
