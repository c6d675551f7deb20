package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/graph"
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

// BenchmarkGraphQLOverhead is analyticsbench's GraphQL row in process:
// `{ viewer { tenant } }` through the router and gqlgen, against a plain
// JSON handler that decodes the same body and encodes the same answer
// behind the same middleware, and against that handler alone (bare). The
// ratio graphql/plain is what GraphQL itself costs per request.
func BenchmarkGraphQLOverhead(b *testing.B) {
	hv, err := auth.NewHMACVerifier(testSecret, auth.VerifyOptions{})
	if err != nil {
		b.Fatal(err)
	}
	v := auth.NewCachingVerifier(hv, auth.TokenCacheConfig{Size: 100})
	signer, _ := auth.NewHMACSigner(testSecret)
	tok, _ := signer.Sign(auth.Principal{Subject: "s", Tenant: "demo", Roles: []auth.Role{auth.RoleViewer}}, time.Hour)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	answer := func(w http.ResponseWriter, r *http.Request, tenant string) {
		var body struct{ Query string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"viewer": map[string]string{"tenant": tenant}}})
	}
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.PrincipalFrom(r.Context())
		answer(w, r, p.Tenant)
	})
	r := &resolvers.Resolver{}
	gql := api.NewGraphQLHandler(api.GraphQLConfig{Schema: r.Config(), Verifier: v, Log: log,
		Limits: api.TenantLimits{Rate: 1e9, Burst: 1 << 30, Concurrency: 1 << 20}})
	router := api.NewRouter(api.RouterConfig{GraphQL: gql, Verifier: v, Metrics: telemetry.NewMetrics(), Log: log,
		Routes: map[string]http.Handler{"POST /plain": plain}})
	// gqlgen's own minimal server for the same schema (its POST transport,
	// a parsed-document cache, no extensions): the executor's floor.
	minimal := handler.New(graph.NewExecutableSchema(r.Config()))
	minimal.AddTransport(transport.POST{})
	minimal.SetQueryCache(lru.New[*ast.QueryDocument](100))
	floor := api.NewRouter(api.RouterConfig{GraphQL: minimal, Verifier: v, Metrics: telemetry.NewMetrics(), Log: log})
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w, r, "demo") })
	for _, c := range []struct {
		name, path string
		h          http.Handler
	}{
		{"bare", "/", bare},
		{"plain", "/plain", router},
		{"gqlgen-minimal", "/graphql", floor},
		{"graphql", "/graphql", router},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(`{"query":"{ viewer { tenant } }"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				rec := httptest.NewRecorder()
				c.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), `{"data":{"viewer":{"tenant":"demo"}}}`) {
					b.Fatalf("%d %s", rec.Code, rec.Body.String())
				}
			}
		})
		// The same over loopback HTTP with a keep-alive client in this
		// process: cpu-ns/op is then the whole exchange, server and client,
		// as analyticsbench's req/s on a busy 2-core machine is.
		b.Run(c.name+"/loopback", func(b *testing.B) {
			srv := httptest.NewServer(c.h)
			defer srv.Close()
			client := srv.Client()
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+c.path, strings.NewReader(`{"query":"{ viewer { tenant } }"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), `{"data":{"viewer":{"tenant":"demo"}}}`) {
					b.Fatalf("%d %s", res.StatusCode, body)
				}
			}
		})
	}
}

// reportCPU reports the process's CPU time (user+system, every thread:
// the garbage collector's too) per iteration as cpu-ns/op, a measure a
// loaded machine disturbs less than wall time. Call the returned function
// when the loop ends.
func reportCPU(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		b.ReportMetric(float64((cpuTime(b)-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
