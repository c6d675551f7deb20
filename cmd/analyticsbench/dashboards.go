package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/live"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// countingBackend counts the SELECTs that reach the engine.
type countingBackend struct {
	store.Backend
	queries atomic.Int64
}

func (c *countingBackend) Query(ctx context.Context, st store.Statement) (store.Rows, error) {
	c.queries.Add(1)
	return c.Backend.Query(ctx, st)
}

// benchWidgets are ten widgets over the catalog, as a typical overview page.
var benchWidgets = []struct {
	metric string
	kind   dashboards.WidgetKind
	grain  metrics.Grain
	sql    string // the hand-written equivalent for one widget
}{
	{"enrolments", dashboards.KindKPI, metrics.GrainTotal, "SELECT count() FROM events FINAL WHERE tenant_id = 'bench' AND type = 'course.enrolled' AND occurred_at >= ? AND occurred_at < ?"},
	{"lesson_completions", dashboards.KindLine, timerange.GrainDay, "SELECT toStartOfDay(occurred_at) d, count() FROM events FINAL WHERE tenant_id = 'bench' AND type = 'lesson.completed' AND occurred_at >= ? AND occurred_at < ? GROUP BY d ORDER BY d"},
	{"course_completions", dashboards.KindKPI, metrics.GrainTotal, "SELECT count() FROM events FINAL WHERE tenant_id = 'bench' AND type = 'course.completed' AND occurred_at >= ? AND occurred_at < ?"},
	{"quiz_submissions", dashboards.KindLine, timerange.GrainDay, "SELECT toStartOfDay(occurred_at) d, count() FROM events FINAL WHERE tenant_id = 'bench' AND type = 'quiz.submitted' AND occurred_at >= ? AND occurred_at < ? GROUP BY d ORDER BY d"},
	{"avg_quiz_score", dashboards.KindKPI, metrics.GrainTotal, "SELECT avg(properties.score::Float64) FROM events FINAL WHERE tenant_id = 'bench' AND type = 'quiz.submitted' AND occurred_at >= ? AND occurred_at < ?"},
	{"learning_minutes", dashboards.KindArea, timerange.GrainDay, "SELECT toStartOfDay(occurred_at) d, sum(properties.seconds::Float64) / 60 FROM events FINAL WHERE tenant_id = 'bench' AND type = 'video.watched' AND occurred_at >= ? AND occurred_at < ? GROUP BY d ORDER BY d"},
	{"quiz_passes", dashboards.KindKPI, metrics.GrainTotal, "SELECT count() FROM events FINAL WHERE tenant_id = 'bench' AND type = 'quiz.submitted' AND properties.score::Float64 >= 60 AND occurred_at >= ? AND occurred_at < ?"},
	{"certificates_issued", dashboards.KindKPI, metrics.GrainTotal, "SELECT count() FROM events FINAL WHERE tenant_id = 'bench' AND type = 'certificate.issued' AND occurred_at >= ? AND occurred_at < ?"},
	{"enrolments", dashboards.KindLine, timerange.GrainDay, "SELECT toStartOfDay(occurred_at) d, count() FROM events FINAL WHERE tenant_id = 'bench' AND type = 'course.enrolled' AND occurred_at >= ? AND occurred_at < ? GROUP BY d ORDER BY d"},
	{"active_learners_dau", dashboards.KindLine, timerange.GrainDay, "SELECT toStartOfDay(occurred_at) d, uniqExact(user_id) FROM events FINAL WHERE tenant_id = 'bench' AND occurred_at >= ? AND occurred_at < ? GROUP BY d ORDER BY d"},
}

// benchDashboards renders a 10-widget dashboard over the 10 M events that
// benchMetrics loaded for tenant "bench" (January 2026): uncached render
// against one hand-written query per widget run one after another, engine
// queries per render, cached render p95; then the live hub with 10 000
// subscribers on 100 keys.
func benchDashboards(ctx context.Context, db *store.DB) ([]result, error) {
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), now
	jan := timerange.Spec{From: &from, To: &to}
	counting := &countingBackend{Backend: db.Backend()}
	cdb := store.New(counting, store.Options{Mode: db.Mode()})
	ctx = auth.WithPrincipal(ctx, auth.Principal{Subject: "bench", Tenant: "bench", Roles: []auth.Role{auth.RoleAdmin}})

	mr, err := miniredis.Run()
	if err != nil {
		return nil, err
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()

	reg := metrics.NewRegistry(cdb, metrics.Config{Now: clock})
	q := metrics.NewQuerier(cdb, reg, metrics.QuerierConfig{Now: clock, DisableRollups: true})
	loaders := func() *metrics.Loader { return metrics.NewLoader(q, metrics.LoaderConfig{}) }
	uncached := dashboards.NewService(cdb, reg, loaders, dashboards.Config{Now: clock})
	cached := dashboards.NewService(cdb, reg, loaders, dashboards.Config{Now: clock, Cache: rdb})

	ws := make([]dashboards.WidgetInput, len(benchWidgets))
	for i, w := range benchWidgets {
		ws[i] = dashboards.WidgetInput{Title: fmt.Sprintf("w%d %s", i, w.metric), Kind: w.kind, MetricKeys: []string{w.metric}, Grain: w.grain,
			Position: dashboards.Position{X: (i % 3) * 4, Y: i / 3 * 4, W: 4, H: 4}}
	}
	d, err := uncached.Create(ctx, dashboards.Input{Slug: "bench-overview", Title: "Bench overview", TimeRange: jan}, ws)
	if err != nil {
		return nil, err
	}
	if _, err := uncached.Render(ctx, d.ID, nil, nil); err != nil { // warm the registry and engine caches alike
		return nil, err
	}
	before := counting.queries.Load()
	renderT, err := timed(3, func() error {
		r, err := uncached.Render(ctx, d.ID, nil, nil)
		if err != nil {
			return err
		}
		for _, w := range r.Widgets {
			if w.Error != nil {
				return fmt.Errorf("widget %s: %s", w.WidgetID, w.Error.Message)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	perRender := float64(counting.queries.Load()-before) / 3
	// The same render as deployed: day-or-coarser widgets over whole days
	// read the daily rollups.
	auto := metrics.NewQuerier(cdb, reg, metrics.QuerierConfig{Now: clock})
	withRollups := dashboards.NewService(cdb, reg, func() *metrics.Loader { return metrics.NewLoader(auto, metrics.LoaderConfig{}) }, dashboards.Config{Now: clock})
	rollupT, err := timed(3, func() error {
		_, err := withRollups.Render(ctx, d.ID, nil, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	handT, err := timed(3, func() error {
		for _, w := range benchWidgets {
			rows, err := db.Query(ctx, w.sql, from, to)
			if err != nil {
				return fmt.Errorf("%s: %w", w.metric, err)
			}
			for rows.Next() {
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	if _, err := cached.Render(ctx, d.ID, nil, nil); err != nil {
		return nil, err
	}
	lat := make([]time.Duration, 200)
	for i := range lat {
		start := time.Now()
		if _, err := cached.Render(ctx, d.ID, nil, nil); err != nil {
			return nil, err
		}
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	p95 := lat[len(lat)*95/100]

	liveRes, err := benchLive()
	if err != nil {
		return nil, err
	}
	return append([]result{
		{
			Name:     "dashboard render, 10 widgets, 10 M events, uncached (raw path)",
			Value:    fmt.Sprintf("%.0f ms", renderT),
			Baseline: fmt.Sprintf("%.0f ms, 10 hand-written queries one after another", handT),
			Ratio:    fmt.Sprintf("%.2f×", renderT/handT),
			Target:   "≤ 0.5×",
			Note:     verdict(renderT/handT <= 0.5) + "; compatible widgets share one scan",
		},
		{
			Name:     "dashboard render, 10 widgets, 10 M events, uncached, rollups on (as deployed)",
			Value:    fmt.Sprintf("%.0f ms", rollupT),
			Baseline: fmt.Sprintf("%.0f ms, 10 hand-written queries one after another", handT),
			Ratio:    fmt.Sprintf("%.2f×", rollupT/handT),
			Target:   "≤ 0.5×",
			Note:     verdict(rollupT/handT <= 0.5) + "; the hand-written queries read raw events",
		},
		{
			Name:     "ClickHouse queries per uncached render (10 widgets)",
			Value:    fmt.Sprintf("%.0f", perRender),
			Baseline: "10 widgets",
			Ratio:    fmt.Sprintf("%.1f per widget", perRender/10),
			Target:   "≤ compatible groups",
			Note:     "includes the dashboard and registry reads",
		},
		{
			Name:     "cached render p95 (Redis protocol in-process), 200 renders",
			Value:    fmt.Sprintf("%.2f ms", float64(p95.Microseconds())/1000),
			Baseline: fmt.Sprintf("%.0f ms uncached", renderT),
			Ratio:    fmt.Sprintf("%.3f×", float64(p95.Microseconds())/1000/renderT),
			Target:   "p95 ≤ 5 ms",
			Note:     verdict(p95 <= 5*time.Millisecond),
		},
	}, liveRes...), nil
}

// benchLive subscribes 10 000 clients to 100 keys of one tenant, wakes every
// refresher once, and counts computes; RSS is the process's resident set.
func benchLive() ([]result, error) {
	hub := live.NewHub(live.Config{Interval: time.Hour})
	var computes atomic.Int64
	var version atomic.Int64
	compute := func(context.Context) (any, []byte, error) {
		computes.Add(1)
		return version.Load(), nil, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var chans []<-chan any
	for i := range 10_000 {
		ch, err := hub.Subscribe(ctx, live.Key{Tenant: "bench", Role: "viewer", Resource: fmt.Sprintf("widget:%d", i%100)}, compute)
		if err != nil {
			return nil, err
		}
		chans = append(chans, ch)
	}
	waitComputes := func(n int64) error {
		deadline := time.Now().Add(10 * time.Second)
		for computes.Load() < n {
			if time.Now().After(deadline) {
				return fmt.Errorf("live: %d of %d computes", computes.Load(), n)
			}
			time.Sleep(time.Millisecond)
		}
		return nil
	}
	if err := waitComputes(100); err != nil {
		return nil, err
	}
	before := computes.Load()
	version.Store(1)
	hub.Poke("bench")
	if err := waitComputes(before + 100); err != nil {
		return nil, err
	}
	var wg sync.WaitGroup // every subscriber gets the new value
	for _, ch := range chans {
		wg.Go(func() {
			for v := range ch {
				if v == int64(1) {
					return
				}
			}
		})
	}
	wg.Wait()
	perRefresh := computes.Load() - before
	runtime.GC()
	rss := rssMiB()
	return []result{{
		Name:     "live widgets: 10 000 subscribers on 100 keys, one refresh",
		Value:    fmt.Sprintf("%d computes, RSS %.0f MiB (whole bench process)", perRefresh, rss),
		Baseline: "100 keys",
		Ratio:    fmt.Sprintf("%.2f computes per key", float64(perRefresh)/100),
		Target:   "≤ 100 per refresh, RSS ≤ 1 GB",
		Note:     verdict(perRefresh <= 100 && rss <= 1024) + "; RSS includes the embedded engine",
	}}, nil
}

// rssMiB reads the process's resident set from /proc.
func rssMiB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}
