package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"time"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/telemetry"
	"github.com/learnhub/analytics-service/resolvers"
	"github.com/learnhub/analytics-service/store"
)

// benchClients is the number of concurrent HTTP clients; benchRounds the
// number of interleaved rounds per side.
const (
	benchClients = 8
	benchRounds  = 3
)

// benchGraphQL compares a trivial GraphQL query with a plain JSON handler
// returning the same bytes behind the same middleware (request id,
// recovery, metrics, token verification through the token cache, as
// analyticsd wires it), so that ratio is the cost of GraphQL itself; and
// with a bare net/http handler without any middleware. The clients run in
// a separate process.
func benchGraphQL(ctx context.Context, db *store.DB, dur time.Duration) ([]result, error) {
	secret := []byte("bench-secret-bench-secret-bench-secret!")
	hv, err := auth.NewHMACVerifier(secret, auth.VerifyOptions{})
	if err != nil {
		return nil, err
	}
	verifier := auth.NewCachingVerifier(hv, auth.TokenCacheConfig{Size: 10_000})
	signer, err := auth.NewHMACSigner(secret)
	if err != nil {
		return nil, err
	}
	token, err := signer.Sign(auth.Principal{Subject: "bench", Tenant: "demo", Roles: []auth.Role{auth.RoleViewer}}, time.Hour)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	r := &resolvers.Resolver{EventService: events.NewService(db)}
	// Limits far above the load: the bench measures GraphQL, not throttling.
	gql := api.NewGraphQLHandler(api.GraphQLConfig{Schema: r.Config(), Verifier: verifier, Log: log,
		Limits: api.TenantLimits{Rate: 1e9, Burst: 1 << 30, Concurrency: 1 << 20}})
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
	srv := httptest.NewServer(api.NewRouter(api.RouterConfig{
		GraphQL: gql, Verifier: verifier, Metrics: telemetry.NewMetrics(), Log: log,
		Routes: map[string]http.Handler{"POST /plain": plain},
	}))
	defer srv.Close()
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w, r, "demo") }))
	defer bare.Close()

	body := `{"query":"{ viewer { tenant } }"}`
	want := `{"data":{"viewer":{"tenant":"demo"}}}`
	run := func(url, path string) (float64, error) {
		res, err := runLoadgen(ctx, loadSpec{URL: url, Clients: benchClients, Duration: dur,
			Requests: []loadRequest{{Name: path, Path: path, Token: token, Body: body, Want: want, Exact: true}}})
		if err == nil && res.Errors > 0 {
			err = fmt.Errorf("%s: %d failed requests, first: %s", path, res.Errors, res.FirstError)
		}
		return res.rate(), err
	}
	// Interleave the three so drift (thermal, other processes) hits all
	// alike; report the median of benchRounds rounds each.
	var gqlRates, plainRates, bareRates []float64
	for range benchRounds {
		g, err := run(srv.URL, "/graphql")
		if err != nil {
			return nil, err
		}
		p, err := run(srv.URL, "/plain")
		if err != nil {
			return nil, err
		}
		b, err := run(bare.URL, "/")
		if err != nil {
			return nil, err
		}
		gqlRates, plainRates, bareRates = append(gqlRates, g), append(plainRates, p), append(bareRates, b)
	}
	gqlRate, plainRate, bareRate := median(gqlRates), median(plainRates), median(bareRates)
	name := fmt.Sprintf("GraphQL trivial query `{ viewer { tenant } }`, %d clients in a separate process, loopback HTTP, median of %d", benchClients, benchRounds)
	return []result{{
		Name:     name + ", vs the same middleware",
		Value:    fmt.Sprintf("%.0f req/s", gqlRate),
		Baseline: fmt.Sprintf("%.0f req/s plain JSON handler behind the same middleware", plainRate),
		Ratio:    fmt.Sprintf("%.2f×", gqlRate/plainRate),
		Target:   "≥ 0.9×",
		Note:     verdict(gqlRate/plainRate >= 0.9) + "; same middleware and token check (token cache) on both",
	}, {
		Name:     name + ", vs a bare handler",
		Value:    fmt.Sprintf("%.0f req/s", gqlRate),
		Baseline: fmt.Sprintf("%.0f req/s bare net/http handler (no middleware), same bytes", bareRate),
		Ratio:    fmt.Sprintf("%.2f×", gqlRate/bareRate),
		Target:   "≥ 0.7×",
		Note:     verdict(gqlRate/bareRate >= 0.7) + fmt.Sprintf("; the middleware alone: plain handler %.2f× of bare", plainRate/bareRate),
	}}, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func verdict(ok bool) string {
	if ok {
		return "meets target"
	}
	return "**below target**"
}
