package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func serve(h http.Handler, method, target, remote, host string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = remote
	if host != "" {
		r.Host = host
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestIndexAndAssetsUnderStrictCSP(t *testing.T) {
	h := Handler(Config{})
	w := serve(h, http.MethodGet, "/", "127.0.0.1:5000", "", nil)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, CSP, w.Header().Get("Content-Security-Policy"))
	assert.Contains(t, w.Header().Get("Content-Type"), "text/html")
	body := w.Body.String()
	assert.NotRegexp(t, regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`), body, "no inline script may run under the CSP")
	assert.NotContains(t, body, "http://", "no CDN or other host")
	assert.NotContains(t, body, "https://", "no CDN or other host")

	// Every file index.html names is served from the embedded build.
	refs := regexp.MustCompile(`(?:src|href)="(/[^"]+)"`).FindAllStringSubmatch(body, -1)
	require.NotEmpty(t, refs)
	for _, m := range refs {
		a := serve(h, http.MethodGet, m[1], "10.1.2.3:5000", "", nil)
		assert.Equal(t, http.StatusOK, a.Code, m[1])
		assert.Equal(t, CSP, a.Header().Get("Content-Security-Policy"), m[1])
	}
	assert.NotContains(t, CSP, "unsafe-inline")
	assert.NotContains(t, CSP, "unsafe-eval")
}

func TestAssetsRevalidateAndCompress(t *testing.T) {
	h := Handler(Config{})
	first := serve(h, http.MethodGet, "/assets/index.js", "127.0.0.1:1", "", map[string]string{"Accept-Encoding": "gzip"})
	require.Equal(t, http.StatusOK, first.Code)
	assert.Equal(t, "gzip", first.Header().Get("Content-Encoding"))
	assert.Contains(t, first.Header().Get("Content-Type"), "javascript")
	zr, err := gzip.NewReader(bytes.NewReader(first.Body.Bytes()))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	raw := serve(h, http.MethodGet, "/assets/index.js", "127.0.0.1:1", "", nil)
	assert.Equal(t, raw.Body.Bytes(), plain, "gzip and identity bodies must be the same file")
	assert.Greater(t, len(plain), len(first.Body.Bytes()))

	etag := first.Header().Get("ETag")
	require.NotEmpty(t, etag)
	again := serve(h, http.MethodGet, "/assets/index.js", "127.0.0.1:1", "", map[string]string{"If-None-Match": etag})
	assert.Equal(t, http.StatusNotModified, again.Code)
	assert.Empty(t, again.Body.Bytes())
}

func TestUnknownPathsAndMethods(t *testing.T) {
	h := Handler(Config{})
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/nope.js", http.StatusNotFound},
		{http.MethodGet, "/../web.go", http.StatusNotFound},
		{http.MethodGet, "/assets/../../web.go", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodHead, "/", http.StatusOK},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			assert.Equal(t, tc.code, serve(h, tc.method, tc.path, "127.0.0.1:1", "", nil).Code)
		})
	}
}

func TestDevTokenOnlyForLoopback(t *testing.T) {
	for _, tc := range []struct {
		name         string
		token        string
		remote, host string
		header       map[string]string
		want         int
	}{
		{"loopback v4, localhost", "dev", "127.0.0.1:4000", "localhost:8080", nil, http.StatusOK},
		{"loopback v4, 127.0.0.1", "dev", "127.0.0.1:4000", "127.0.0.1:8080", nil, http.StatusOK},
		{"loopback v6", "dev", "[::1]:4000", "[::1]:8080", nil, http.StatusOK},
		{"remote client", "dev", "192.0.2.7:4000", "localhost:8080", nil, http.StatusNotFound},
		{"rebinding host name", "dev", "127.0.0.1:4000", "attacker.example:8080", nil, http.StatusNotFound},
		{"through a proxy on this host", "dev", "127.0.0.1:4000", "localhost:8080", map[string]string{"X-Forwarded-For": "203.0.113.9"}, http.StatusNotFound},
		{"no dev token (JWKS or shared secret)", "", "127.0.0.1:4000", "localhost:8080", nil, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(Handler(Config{DevToken: tc.token}), http.MethodGet, DevTokenPath, tc.remote, tc.host, tc.header)
			require.Equal(t, tc.want, w.Code)
			if tc.want != http.StatusOK {
				assert.NotContains(t, w.Body.String(), "dev")
				return
			}
			var got map[string]string
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
			assert.Equal(t, tc.token, got["token"])
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		})
	}
}

func TestPlaygroundIsSelfHostedGraphiQL(t *testing.T) {
	w := serve(Playground(), http.MethodGet, "/playground", "127.0.0.1:1", "", nil)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, PlaygroundCSP, w.Header().Get("Content-Security-Policy"))
	assert.Contains(t, PlaygroundCSP, "script-src 'self';", "GraphiQL's scripts stay same-origin only")
	body := w.Body.String()
	assert.Contains(t, body, "/assets/playground.js")
	assert.NotContains(t, body, "https://", "no CDN")
	assert.NotRegexp(t, regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`), body)

	// Its script and the Monaco workers it starts are served by Handler.
	h := Handler(Config{})
	for _, f := range []string{"/assets/playground.js", "/assets/editor.worker.js", "/assets/graphql.worker.js"} {
		assert.Equal(t, http.StatusOK, serve(h, http.MethodGet, f, "127.0.0.1:1", "", nil).Code, f)
	}
	assert.Equal(t, http.StatusMethodNotAllowed, serve(Playground(), http.MethodPost, "/playground", "127.0.0.1:1", "", nil).Code)
}
