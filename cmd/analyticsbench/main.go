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
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
)

// ingestEvents is the backlog each ingest throughput run drains: 400 000
// events is eight sink batches, so the pipeline's fill (the first 50 000
// rows) and its last insert, which nothing overlaps, weigh little against
// sustained events/s; at 100 000 they were a quarter of the run.
var ingestEvents = 400_000

// dataDir holds the shared benchmark data; m4Models narrows the m4 group.
var (
	dataDir  = "../shared/data"
	m4Models string
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
	if len(os.Args) == 2 && os.Args[1] == loadgenFlag {
		loadgenMain() // a child process of the graphql and load groups
		return
	}
	if len(os.Args) == 2 && os.Args[1] == kafkaBrokerFlag {
		kafkaBrokerMain() // a child process of the ingest group
		return
	}
	out := flag.String("out", "docs/BENCHMARKS.md", "markdown file to write")
	dur := flag.Duration("duration", 2*time.Second, "duration of each throughput run")
	rows := flag.Int("rows", 1_000_000, "rows for the insert benchmark")
	onlyList := flag.String("only", "", "comma-separated benchmark groups to run (graphql, insert, ingest, metrics, cohorts, exports, dashboards, m4, nab, nab-reference, journeys, monitors, load, insights, growth); "+
		"a partial run prints its table to stdout and leaves -out alone")
	flag.IntVar(&ingestEvents, "ingest-events", ingestEvents, "events in each ingest throughput run")
	flag.StringVar(&dataDir, "data", dataDir, "directory of the shared benchmark data (m4-hourly/, nab/)")
	flag.StringVar(&m4Models, "m4-models", "", "comma-separated forecasters for the m4 group (default: seasonal naive, the default and every other model)")
	flag.StringVar(&nabData, "nab-data", nabData, "labelled NAB corpus (data/, windows.json, profiles.json) for the nab group")
	flag.StringVar(&nabResults, "nab-results", nabResults, "a numenta/NAB checkout's results/ directory for the nab-reference group")
	flag.IntVar(&journeysEvents, "journeys-events", journeysEvents, "events of the journeys data set (100 per user)")
	flag.DurationVar(&loadDuration, "load-duration", loadDuration, "duration of each concurrency level of the load group")
	flag.IntVar(&loadEvents, "load-events", loadEvents, "events per tenant of the load group")
	flag.IntVar(&insightsEvents, "insights-events", insightsEvents, "events of the insights data set (two months, one tenant)")
	flag.IntVar(&growthEvents, "growth-events", growthEvents, "events of the growth group's 1× data set (4× and 16× follow)")
	flag.IntVar(&metricsBenchEvents, "metrics-events", metricsBenchEvents, "events of the metrics group's data set (the cohorts group reuses it)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	only := map[string]bool{}
	for _, name := range strings.Split(*onlyList, ",") {
		if name = strings.TrimSpace(name); name != "" {
			only[name] = true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *out, *cpuProfile, *dur, *rows, only); err != nil {
		fmt.Fprintln(os.Stderr, "analyticsbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out, cpuProfile string, dur time.Duration, rows int, only map[string]bool) error {
	all := cases(nil, dur, rows)
	for name := range only {
		if !slices.ContainsFunc(all, func(c benchCase) bool { return c.name == name }) {
			return fmt.Errorf("-only: no benchmark group %q", name)
		}
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// The engine starts only when a selected group uses it.
	var db *store.DB
	chVersion := "not started (no selected benchmark uses it)"
	if slices.ContainsFunc(all, func(c benchCase) bool { return !c.fileOnly() && (len(only) == 0 || only[c.name]) }) {
		dir, err := os.MkdirTemp("", "analyticsbench-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		backend, err := chembedded.Open(ctx, chembedded.Options{Path: filepath.Join(dir, "clickhouse"), Database: "bench"})
		if err != nil {
			return err
		}
		db = store.New(backend, store.Options{Mode: "embedded"})
		defer db.Close()
		if _, err := store.Migrate(ctx, db, store.MigrateOptions{}); err != nil {
			return err
		}
		if chVersion, err = db.ServerVersion(ctx); err != nil {
			return err
		}
	}

	var results []result
	for _, c := range cases(db, dur, rows) {
		if len(only) > 0 && !only[c.name] {
			continue
		}
		// A phase starts on a quiet engine: background merges of the rows an
		// earlier phase wrote would otherwise take CPU from one side of its
		// comparison and not the other.
		if !c.fileOnly() {
			if err := settleMerges(ctx, db, 2*time.Minute); err != nil {
				return err
			}
		}
		fmt.Fprintln(os.Stderr, c.label+" …")
		r, err := c.run(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		results = append(results, r...)
	}
	if len(only) > 0 {
		// A partial run must not replace the full results file.
		_, err := os.Stdout.WriteString(render(results, chVersion))
		return err
	}
	return os.WriteFile(out, []byte(render(results, chVersion)+keptSections(out)), 0o644)
}

// keptSections returns the part of the old results file from the first
// line starting with "<!-- kept:": sections other tests write (the web
// console's browser measurements, web/browser_test.go) survive a rerun.
func keptSections(path string) string {
	old, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if i := strings.Index(string(old), "\n<!-- kept:"); i >= 0 {
		return string(old[i:])
	}
	return ""
}

// settleMerges waits, at most max, until the engine runs no merge and no
// mutation in the bench database for two seconds in a row.
func settleMerges(ctx context.Context, db *store.DB, max time.Duration) error {
	deadline := time.Now().Add(max)
	quiet := 0
	for quiet < 2 && time.Now().Before(deadline) {
		var busy uint64
		if err := db.QueryRow(ctx, []any{&busy}, `
			SELECT (SELECT count() FROM system.merges WHERE database = currentDatabase())
			     + (SELECT count() FROM system.mutations WHERE database = currentDatabase() AND NOT is_done)`); err != nil {
			return err
		}
		if busy == 0 {
			quiet++
		} else {
			quiet = 0
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil
}

// mark is the ratio column's verdict against a target.
func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

// benchCase is one benchmark group, selectable with -only.
type benchCase struct {
	name  string
	label string
	run   func(context.Context) ([]result, error)
}

// fileOnly reports whether the group runs on data files alone, without the
// engine (the forecaster and detector accuracy groups).
func (c benchCase) fileOnly() bool {
	return c.name == "m4" || c.name == "nab" || c.name == "nab-reference"
}

// cases are the benchmark groups in the order they run.
func cases(db *store.DB, dur time.Duration, rows int) []benchCase {
	return []benchCase{
		{"graphql", "graphql overhead", func(ctx context.Context) ([]result, error) { return benchGraphQL(ctx, db, dur) }},
		{"insert", "embedded insert", func(ctx context.Context) ([]result, error) { return benchInsert(ctx, db, rows) }},
		{"ingest", "ingest: NATS → ClickHouse, NATS → Kafka → ClickHouse", func(ctx context.Context) ([]result, error) {
			return benchIngest(ctx, db, ingestEvents)
		}},
		{"metrics", "metrics: raw vs rollup, batched vs separate", func(ctx context.Context) ([]result, error) { return benchMetrics(ctx, db) }},
		{"cohorts", "cohorts: evaluation vs hand-written SQL", func(ctx context.Context) ([]result, error) { return benchCohorts(ctx, db) }},
		{"exports", "exports: formats vs the engine writing the same format", func(ctx context.Context) ([]result, error) { return benchExports(ctx, db) }},
		{"dashboards", "dashboards: render vs hand-written SQL, cache, live", func(ctx context.Context) ([]result, error) {
			return benchDashboards(ctx, db)
		}},
		{"m4", "forecasters: M4 hourly accuracy vs seasonal naive", func(ctx context.Context) ([]result, error) {
			return benchM4(ctx, filepath.Join(dataDir, "m4-hourly"), strings.FieldsFunc(m4Models, func(r rune) bool { return r == ',' || r == ' ' }))
		}},
		{"nab", "nab: detectors on the NAB files, scored as NAB does", benchNAB},
		{"nab-reference", "nab-reference: NAB's stored results through our scorer", benchNABReference},
		{"journeys", "journeys: funnel vs windowFunnel, retention vs retention(), paths", func(ctx context.Context) ([]result, error) {
			return benchJourneys(ctx, db)
		}},
		{"monitors", "monitors: 1 000 monitors × 720 hourly buckets per tick, planted demo anomaly", func(ctx context.Context) ([]result, error) { return benchMonitors(ctx, db) }},
		{"load", "load: 3 tenants, mixed reads, 8/32/64 clients", func(ctx context.Context) ([]result, error) { return benchLoad(ctx, db) }},
		{"insights", "insights: built-in analyst, why did completions drop, driver analysis", func(ctx context.Context) ([]result, error) { return benchInsights(ctx, db) }},
		{"growth", "growth: 1×, 4×, 16× data, raw and rollups", func(ctx context.Context) ([]result, error) { return benchGrowth(ctx, db) }},
	}
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
