package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/telemetry"
	"github.com/learnhub/analytics-service/resolvers"
)

// BenchmarkMiddleware measures the router's middleware chain around a
// handler that writes a fixed answer, against the handler alone.
func BenchmarkMiddleware(b *testing.B) {
	hv, err := auth.NewHMACVerifier(testSecret, auth.VerifyOptions{})
	if err != nil {
		b.Fatal(err)
	}
	signer, _ := auth.NewHMACSigner(testSecret)
	tok, _ := signer.Sign(auth.Principal{Subject: "s", Tenant: "demo", Roles: []auth.Role{auth.RoleViewer}}, time.Hour)
	answer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{"viewer":{"tenant":"demo"}}}`))
	})
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for _, c := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", answer},
		{"router/verify", api.NewRouter(api.RouterConfig{GraphQL: answer, Verifier: hv, Metrics: telemetry.NewMetrics(), Log: log})},
		{"router/token-cache", api.NewRouter(api.RouterConfig{GraphQL: answer, Verifier: auth.NewCachingVerifier(hv, auth.TokenCacheConfig{Size: 100}),
			Metrics: telemetry.NewMetrics(), Log: log})},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ viewer { tenant } }"}`))
				req.Header.Set("Authorization", "Bearer "+tok)
				c.h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}

// BenchmarkTrivialGraphQL is the router serving `{ viewer { tenant } }`
// through gqlgen, for profiling what GraphQL adds per request.
func BenchmarkTrivialGraphQL(b *testing.B) {
	hv, err := auth.NewHMACVerifier(testSecret, auth.VerifyOptions{})
	if err != nil {
		b.Fatal(err)
	}
	v := auth.NewCachingVerifier(hv, auth.TokenCacheConfig{Size: 100})
	signer, _ := auth.NewHMACSigner(testSecret)
	tok, _ := signer.Sign(auth.Principal{Subject: "s", Tenant: "demo", Roles: []auth.Role{auth.RoleViewer}}, time.Hour)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	r := &resolvers.Resolver{}
	gql := api.NewGraphQLHandler(api.GraphQLConfig{Schema: r.Config(), Verifier: v, Log: log,
		Limits: api.TenantLimits{Rate: 1e9, Burst: 1 << 30, Concurrency: 1 << 20}})
	h := api.NewRouter(api.RouterConfig{GraphQL: gql, Verifier: v, Metrics: telemetry.NewMetrics(), Log: log})
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ viewer { tenant } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Body.String())
		}
	}
}
