package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"
)

// cachedRenderRun is how long each side of the cached-render comparison
// runs per round; cachedRenderClients how many clients send renders.
const (
	cachedRenderRun     = 5 * time.Second
	cachedRenderClients = 32
)

// benchCachedRender compares the learner-progress render served from the
// results cache through the whole stack (router, token cache, GraphQL,
// widget cache) with a bare net/http handler writing the very bytes the
// server answered, per tenant: no commits run, so every render is a cache
// hit and both sides must answer the same bytes on every request (the
// load generator checks each answer exactly). It is the issue's "cached
// render throughput ≥ 0.5× of a bare handler serving the same bytes".
func benchCachedRender(ctx context.Context, srv loadTarget, reqs []loadRequest) (result, error) {
	var renders []loadRequest
	byToken := map[string][]byte{}
	for _, rq := range reqs {
		if rq.Group != "render" {
			continue
		}
		body, err := answer(ctx, http.DefaultClient, srv.url, rq)
		if err != nil {
			return result{}, fmt.Errorf("cached render %s: %w", rq.Name, err)
		}
		byToken["Bearer "+rq.Token] = body
		rq.Want, rq.Exact = string(bytes.TrimSpace(body)), true
		renders = append(renders, rq)
	}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		body, ok := byToken[r.Header.Get("Authorization")]
		if !ok {
			http.Error(w, "unknown token", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer bare.Close()
	run := func(url string) (loadResult, error) {
		res, err := runLoadgen(ctx, loadSpec{URL: url, Requests: renders, Clients: cachedRenderClients, Duration: cachedRenderRun})
		if err == nil && res.Errors > 0 {
			err = fmt.Errorf("cached render: %d failed requests, first: %s", res.Errors, res.FirstError)
		}
		return res, err
	}
	var ours, theirs []float64
	var last loadResult
	var cpu time.Duration
	var served int
	if dir := os.Getenv("ANALYTICSBENCH_RENDER_PROFILE"); dir != "" {
		f, err := os.Create(filepath.Join(dir, "cached-render.prof"))
		if err != nil {
			return result{}, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return result{}, err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	for range benchRounds {
		before := processCPU()
		o, err := run(srv.url)
		if err != nil {
			return result{}, err
		}
		cpu += processCPU() - before
		served += o.Count
		b, err := run(bare.URL)
		if err != nil {
			return result{}, err
		}
		ours, theirs, last = append(ours, o.rate()), append(theirs, b.rate()), o
	}
	o, b := median(ours), median(theirs)
	size := len(byToken["Bearer "+renders[0].Token])
	return result{
		Name: fmt.Sprintf("cached learner-progress render, %d clients in a separate process, 3 tenants, no commits (every render a cache hit), %s per side, median of %d interleaved rounds",
			cachedRenderClients, cachedRenderRun, benchRounds),
		Value:    fmt.Sprintf("%.0f req/s (last round p50 %.1f / p99 %.1f ms)", o, last.P50, last.P99),
		Baseline: fmt.Sprintf("%.0f req/s bare net/http handler writing the same bytes (%d B per answer)", b, size),
		Ratio:    fmt.Sprintf("%.2f×", o/b),
		Target:   "≥ 0.5×",
		Note: verdict(o/b >= 0.5) + fmt.Sprintf("; server process CPU %.0f µs per render (the bench process: server and engine)", micros(cpu)/float64(served)) +
			"; every answer on both sides checked byte for byte against the server's first answer for that tenant; the server side is the whole stack: router, token cache, limits, GraphQL, results cache",
	}, nil
}
