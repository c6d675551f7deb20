package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/telemetry"
	"github.com/learnhub/analytics-service/resolvers"
)

// edge is the HTTP surface (router, transports, extensions) in front of the
// real schema with no storage behind it: what the edge refuses never reaches
// a resolver, and `viewer` / `serverInfo` need none. Tests of the edge use
// it so they run without loading the embedded engine.
type edge struct {
	t      *testing.T
	url    string
	signer *auth.HMACSigner
	logs   *syncBuffer
}

// edgeOpts adjusts the handler and router configuration of an edge.
type edgeOpts struct {
	graphql func(*api.GraphQLConfig)
	router  func(*api.RouterConfig)
}

func newEdge(t *testing.T, o edgeOpts) *edge {
	t.Helper()
	verifier, err := auth.NewHMACVerifier(testSecret, auth.VerifyOptions{})
	require.NoError(t, err)
	signer, err := auth.NewHMACSigner(testSecret)
	require.NoError(t, err)
	r := &resolvers.Resolver{Info: resolvers.ServerInfo{Version: "test", ClickHouseVersion: "26.7", Mode: "embedded"}}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	gcfg := api.GraphQLConfig{Schema: r.Config(), Verifier: verifier, Log: log}
	if o.graphql != nil {
		o.graphql(&gcfg)
	}
	rcfg := api.RouterConfig{GraphQL: api.NewGraphQLHandler(gcfg), Verifier: verifier, Metrics: telemetry.NewMetrics(), Log: log}
	if o.router != nil {
		o.router(&rcfg)
	}
	srv := httptest.NewServer(api.NewRouter(rcfg))
	t.Cleanup(srv.Close)
	return &edge{t: t, url: srv.URL, signer: signer, logs: logs}
}

// token signs an hour-long token for subject "u-<tenant>" with role.
func (e *edge) token(tenant string, role auth.Role) string {
	e.t.Helper()
	h := harness{t: e.t, signer: e.signer}
	return h.token(tenant, role)
}

// rawResponse is an HTTP answer as the client saw it.
type rawResponse struct {
	status      int
	contentType string
	body        string
}

// do sends one request to path with the given headers and returns the
// answer; timeout bounds the whole exchange.
func (e *edge) do(method, path, body string, headers map[string]string, timeout time.Duration) (rawResponse, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, rd)
	require.NoError(e.t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return rawResponse{}, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return rawResponse{}, err
	}
	return rawResponse{status: res.StatusCode, contentType: res.Header.Get("Content-Type"), body: string(out)}, nil
}

// postJSON posts body to /graphql as application/json with token.
func (e *edge) postJSON(token, body string) rawResponse {
	e.t.Helper()
	h := map[string]string{"Content-Type": "application/json", "Accept": "application/json"}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	res, err := e.do(http.MethodPost, "/graphql", body, h, 30*time.Second)
	require.NoError(e.t, err)
	return res
}

// syncBuffer is a log buffer the server's goroutines write while a test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
