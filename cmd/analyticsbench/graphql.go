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
	"strings"
	"sync"
	"sync/atomic"
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
// returning the same bytes, both behind the same middleware (request id,
// recovery, metrics, token verification), so the ratio is the cost of
// GraphQL itself.
func benchGraphQL(ctx context.Context, db *store.DB, dur time.Duration) ([]result, error) {
	secret := []byte("bench-secret-bench-secret-bench-secret!")
	verifier, err := auth.NewHMACVerifier(secret, auth.VerifyOptions{})
	if err != nil {
		return nil, err
	}
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
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Query string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p, _ := auth.PrincipalFrom(r.Context())
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"viewer": map[string]string{"tenant": p.Tenant}}})
	})
	srv := httptest.NewServer(api.NewRouter(api.RouterConfig{
		GraphQL: gql, Verifier: verifier, Metrics: telemetry.NewMetrics(), Log: log,
		Routes: map[string]http.Handler{"POST /plain": plain},
	}))
	defer srv.Close()

	body := `{"query":"{ viewer { tenant } }"}`
	want := `{"data":{"viewer":{"tenant":"demo"}}}`
	// Interleave the two so drift (thermal, other processes) hits both alike;
	// report the median of benchRounds rounds each.
	var gqlRates, plainRates []float64
	for range benchRounds {
		g, err := throughput(ctx, srv.URL+"/graphql", token, body, want, dur)
		if err != nil {
			return nil, err
		}
		p, err := throughput(ctx, srv.URL+"/plain", token, body, want, dur)
		if err != nil {
			return nil, err
		}
		gqlRates, plainRates = append(gqlRates, g), append(plainRates, p)
	}
	gqlRate, plainRate := median(gqlRates), median(plainRates)
	ratio := gqlRate / plainRate
	return []result{{
		Name:     fmt.Sprintf("GraphQL trivial query `{ viewer { tenant } }`, %d clients, loopback HTTP, median of %d", benchClients, benchRounds),
		Value:    fmt.Sprintf("%.0f req/s", gqlRate),
		Baseline: fmt.Sprintf("%.0f req/s plain JSON handler", plainRate),
		Ratio:    fmt.Sprintf("%.2f×", ratio),
		Target:   "≥ 0.9×",
		Note:     verdict(ratio >= 0.9) + "; same middleware and token check on both",
	}}, nil
}

// throughput runs benchClients keep-alive clients against url for dur and
// returns successful requests per second. Every response is checked.
func throughput(ctx context.Context, url, token, body, want string, dur time.Duration) (float64, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	defer client.CloseIdleConnections()
	var (
		n        atomic.Int64
		firstErr atomic.Value
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(dur)
	start := time.Now()
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := client.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				got, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if strings.TrimSpace(string(got)) != want {
					firstErr.CompareAndSwap(nil, fmt.Errorf("unexpected response %q", got))
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
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
