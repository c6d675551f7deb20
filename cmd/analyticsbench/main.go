// Command analyticsbench measures the service against baselines run in the
// same process on the same data, and writes the results with the machine
// and date to docs/BENCHMARKS.md (`make bench`). Numbers are ratios first:
// absolute numbers move with the machine, ratios much less.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
)

// result is one benchmark row.
type result struct {
	Name     string
	Value    string // the measured number with unit
	Baseline string // the same-run baseline with unit
	Ratio    string // value / baseline, or a target check
	Target   string
	Note     string
}

func main() {
	out := flag.String("out", "docs/BENCHMARKS.md", "markdown file to write")
	dur := flag.Duration("duration", 2*time.Second, "duration of each throughput run")
	rows := flag.Int("rows", 1_000_000, "rows for the insert benchmark")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *out, *dur, *rows); err != nil {
		fmt.Fprintln(os.Stderr, "analyticsbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out string, dur time.Duration, rows int) error {
	dir, err := os.MkdirTemp("", "analyticsbench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	backend, err := chembedded.Open(ctx, chembedded.Options{Path: filepath.Join(dir, "clickhouse"), Database: "bench"})
	if err != nil {
		return err
	}
	db := store.New(backend, store.Options{Mode: "embedded"})
	defer db.Close()
	if _, err := store.Migrate(ctx, db, store.MigrateOptions{}); err != nil {
		return err
	}
	chVersion, err := db.ServerVersion(ctx)
	if err != nil {
		return err
	}

	var results []result
	fmt.Fprintln(os.Stderr, "graphql overhead …")
	r, err := benchGraphQL(ctx, db, dur)
	if err != nil {
		return fmt.Errorf("graphql: %w", err)
	}
	results = append(results, r...)
	fmt.Fprintln(os.Stderr, "embedded insert …")
	r, err = benchInsert(ctx, db, rows)
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	results = append(results, r...)
	fmt.Fprintln(os.Stderr, "ingest: NATS → ClickHouse, NATS → Kafka → ClickHouse …")
	r, err = benchIngest(ctx, db, 100_000)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	results = append(results, r...)
	fmt.Fprintln(os.Stderr, "metrics: raw vs rollup, batched vs separate …")
	r, err = benchMetrics(ctx, db)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	results = append(results, r...)
	fmt.Fprintln(os.Stderr, "cohorts: evaluation vs hand-written SQL …")
	r, err = benchCohorts(ctx, db)
	if err != nil {
		return fmt.Errorf("cohorts: %w", err)
	}
	results = append(results, r...)
	fmt.Fprintln(os.Stderr, "exports: formats vs the engine's own CSV …")
	r, err = benchExports(ctx, db)
	if err != nil {
		return fmt.Errorf("exports: %w", err)
	}
	results = append(results, r...)
	fmt.Fprintln(os.Stderr, "dashboards: render vs hand-written SQL, cache, live …")
	r, err = benchDashboards(ctx, db)
	if err != nil {
		return fmt.Errorf("dashboards: %w", err)
	}
	results = append(results, r...)
	return os.WriteFile(out, []byte(render(results, chVersion)), 0o644)
}

func render(results []result, chVersion string) string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Written by `make bench` (cmd/analyticsbench). Every number is measured against a baseline\n")
	b.WriteString("run in the same process on the same data; the ratio is what to compare across machines.\n\n")
	fmt.Fprintf(&b, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- machine: %s, %d cores (GOMAXPROCS %d), %s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), memTotal())
	fmt.Fprintf(&b, "- go: %s, ClickHouse (embedded chDB): %s\n\n", runtime.Version(), chVersion)
	b.WriteString("| benchmark | measured | baseline (same run) | ratio | target | note |\n|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.Name, r.Value, r.Baseline, r.Ratio, r.Target, r.Note)
	}
	return b.String()
}

func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "memory unknown"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "MemTotal:") {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "MemTotal:")), "%d", &kb)
			return fmt.Sprintf("%.0f GiB RAM", float64(kb)/1024/1024)
		}
	}
	return "memory unknown"
}
