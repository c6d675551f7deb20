package dashboards

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// cpuTime is the process's user and system CPU time so far (the embedded
// engine runs in the process, so its work counts).
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestWidgetRecomputeCost measures what each preset widget costs the
// engine when a commit notice moved its entry: over the whole 30-day
// window (what every widget cost before closed days and today were split)
// and, for the widgets answered in parts, over today alone. It logs
// statements, closed-day statements, CPU and wall time per widget metric
// (median of runs), and checks that today's part reads no closed day.
func TestWidgetRecomputeCost(t *testing.T) {
	const events, runs = 200_000, 5
	e := newEnv(t)
	seed(t, e.db, "acme", events, 11)
	now := time.Date(2026, 1, 31, 15, 0, 0, 0, time.UTC)
	today := now.Truncate(24 * time.Hour)
	require.NoError(t, metrics.NewRollups(e.db).Rebuild(context.Background(), mustScope(t, "acme"), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), today))
	ctx := as("acme")
	_, err := e.svc.Get(ctx, PresetSlug)
	require.NoError(t, err)
	rng, err := timerange.ResolveAligned(timerange.Spec{Last: "30d"}, now, timerange.GrainNone, time.UTC, "timeRange")
	require.NoError(t, err)
	q := metrics.NewQuerier(e.db, e.reg, metrics.QuerierConfig{Now: func() time.Time { return now }})
	measure := func(req metrics.Request) (stmts, closed int64, cpu, wall time.Duration) {
		cpus, walls := make([]time.Duration, runs), make([]time.Duration, runs)
		for i := range runs {
			before := e.counter.queries.Load()
			closed = 0
			e.counter.stmt = func(st store.Statement) {
				if slices.ContainsFunc(st.Args, func(a any) bool { at, ok := a.(time.Time); return ok && at.Before(today) }) {
					closed++
				}
			}
			c0, w0 := cpuTime(t), time.Now()
			_, err := q.Query(ctx, req)
			walls[i], cpus[i] = time.Since(w0), cpuTime(t)-c0
			e.counter.stmt = nil
			require.NoError(t, err)
			stmts = e.counter.queries.Load() - before
		}
		slices.Sort(cpus)
		slices.Sort(walls)
		return stmts, closed, cpus[runs/2], walls[runs/2]
	}
	_, widgets := Preset()
	t.Logf("%d events in January, now %s; per widget metric: statements (one is the definitions read; those reading closed days), CPU, wall (median of %d)", events, now.Format(time.DateTime), runs)
	for _, w := range widgets {
		for _, key := range w.MetricKeys {
			req := metrics.Request{MetricKey: key, Dimensions: w.Dimensions, Grain: widgetGrain(Widget{WidgetInput: w}), Limit: w.Limit,
				TimeRange: timerange.Spec{From: &rng.From, To: &rng.To}}
			s, c, cpu, wall := measure(req)
			line := []any{w.Title, key, s, c, cpu.Round(10 * time.Microsecond), wall.Round(10 * time.Microsecond)}
			def, err := e.reg.GetByKey(ctx, key)
			require.NoError(t, err)
			split, ok := metrics.NewSplit(req, def, e.reg.KeyLookup(ctx), rng, time.UTC)
			if !ok {
				t.Logf("%-26s %-24s whole window: %d stmts (%d closed), cpu %v, wall %v; not additive: recomputed whole", line...)
				continue
			}
			var os, oc int64
			var ocpu, owall time.Duration
			for _, part := range split.Parts {
				part.TimeRange = timerange.Spec{From: &today, To: &rng.To}
				s, c, cpu, wall := measure(part)
				os, oc, ocpu, owall = os+s, oc+c, ocpu+cpu, owall+wall
			}
			assert.Zero(t, oc, "%s: today's parts read no closed day", key)
			t.Logf("%-26s %-24s whole window: %d stmts (%d closed), cpu %v, wall %v; today's parts: %d stmts (%d closed), cpu %v, wall %v",
				append(line, os, oc, ocpu.Round(10*time.Microsecond), owall.Round(10*time.Microsecond))...)
		}
	}
}
