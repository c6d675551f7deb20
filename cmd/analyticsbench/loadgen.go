package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// loadgenFlag makes analyticsbench a load generator: it reads a loadSpec on
// stdin, runs it and writes a loadResult on stdout. The benchmarks start
// it as a child process so clients and server do not share one Go
// runtime (scheduler, GC, allocator), as in production.
const loadgenFlag = "-loadgen"

// loadSpec is what one load generator run sends.
type loadSpec struct {
	URL string
	// Requests are sent in turn by every client (client i starts at
	// request i), so each gets an equal share.
	Requests []loadRequest
	Clients  int
	Duration time.Duration
}

// loadRequest is one request and the check of its answer.
type loadRequest struct {
	Name  string
	Path  string // appended to URL
	Token string
	Body  string // POSTed as JSON; empty means GET
	// Want must appear in the answer (or equal it, trimmed, with Exact); an
	// answer holding "errors" always counts as an error.
	Want  string
	Exact bool
	// Group names the kind of read, for its own p99 (loadResult.P99By).
	Group string `json:",omitempty"`
}

// loadResult is what a run measured.
type loadResult struct {
	Count, Errors int
	FirstError    string
	Seconds       float64
	P50, P95, P99 float64 // milliseconds
	// P99By is the p99 of each request Group, in milliseconds.
	P99By map[string]float64 `json:",omitempty"`
}

// rate is the successful requests per second.
func (r loadResult) rate() float64 { return float64(r.Count) / r.Seconds }

// runLoadgen runs a load generator child with spec.
func runLoadgen(ctx context.Context, spec loadSpec) (loadResult, error) {
	self, err := os.Executable()
	if err != nil {
		return loadResult{}, err
	}
	in, err := json.Marshal(spec)
	if err != nil {
		return loadResult{}, err
	}
	cmd := exec.CommandContext(ctx, self, loadgenFlag)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return loadResult{}, fmt.Errorf("load generator: %w", err)
	}
	var res loadResult
	if err := json.Unmarshal(out, &res); err != nil {
		return loadResult{}, fmt.Errorf("load generator answer %q: %w", out, err)
	}
	if res.FirstError != "" && res.Count == 0 {
		return res, fmt.Errorf("load generator: every request failed: %s", res.FirstError)
	}
	return res, nil
}

// loadgenMain is the child's main: spec on stdin, result on stdout.
func loadgenMain() {
	var spec loadSpec
	if err := json.NewDecoder(os.Stdin).Decode(&spec); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	res := generate(context.Background(), spec)
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		os.Exit(2)
	}
}

// generate runs spec's clients until its duration passed.
func generate(ctx context.Context, spec loadSpec) loadResult {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: spec.Clients, MaxIdleConns: spec.Clients}}
	defer client.CloseIdleConnections()
	var (
		mu       sync.Mutex
		lat      []time.Duration
		byGroup  = map[string][]time.Duration{}
		errCount int
		firstErr string
		wg       sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(spec.Duration)
	for c := range spec.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			mineBy := map[string][]time.Duration{}
			errs, first := 0, ""
			for k := c; time.Now().Before(deadline); k++ {
				r := spec.Requests[k%len(spec.Requests)]
				t0 := time.Now()
				if err := send(ctx, client, spec.URL, r); err != nil {
					errs++
					if first == "" {
						first = r.Name + ": " + err.Error()
					}
					continue
				}
				d := time.Since(t0)
				mine = append(mine, d)
				if r.Group != "" {
					mineBy[r.Group] = append(mineBy[r.Group], d)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			for g, ds := range mineBy {
				byGroup[g] = append(byGroup[g], ds...)
			}
			errCount += errs
			if firstErr == "" {
				firstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res := loadResult{Count: len(lat), Errors: errCount, FirstError: firstErr, Seconds: time.Since(start).Seconds()}
	res.P50, res.P95, res.P99 = percentile(lat, 0.50), percentile(lat, 0.95), percentile(lat, 0.99)
	for g, ds := range byGroup {
		if res.P99By == nil {
			res.P99By = map[string]float64{}
		}
		res.P99By[g] = percentile(ds, 0.99)
	}
	return res
}

// percentile is the p-th latency of lat in milliseconds (lat is sorted).
func percentile(lat []time.Duration, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
}

// send makes one request and checks its answer.
func send(ctx context.Context, client *http.Client, base string, r loadRequest) error {
	_, err := answer(ctx, client, base, r)
	return err
}

// answer makes one request, checks it and returns its body.
func answer(ctx context.Context, client *http.Client, base string, r loadRequest) ([]byte, error) {
	method, body := http.MethodGet, io.Reader(nil)
	if r.Body != "" {
		method, body = http.MethodPost, strings.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+r.Path, body)
	if err != nil {
		return nil, err
	}
	if r.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	switch {
	case err != nil:
		return nil, err
	case res.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("status %d: %.200s", res.StatusCode, got)
	case r.Exact && strings.TrimSpace(string(got)) != r.Want:
		return nil, fmt.Errorf("unexpected answer %.200q", got)
	case !r.Exact && (bytes.Contains(got, []byte(`"errors"`)) || !bytes.Contains(got, []byte(r.Want))):
		return nil, fmt.Errorf("unexpected answer %.300q", got)
	}
	return got, nil
}
