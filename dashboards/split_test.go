package dashboards

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// mergeable names the preset's metrics answered in parts (metrics.NewSplit):
// COUNT metrics and the ratio of two.
var mergeable = map[string]bool{"course_completions": true, "enrolments": true, "course_completion_rate": true}

// addEvents inserts n random events of tenant between from and to and,
// when notify, sends the commit notice the ingest pipeline sends (with the
// batch's oldest and newest event time), then waits until this replica's
// version of the tenant moved.
func (v *versioned) addEvents(t *testing.T, rnd *rand.Rand, tenant string, n int, from, to time.Time, notify bool) {
	t.Helper()
	types := []string{"course.enrolled", "course.completed", "quiz.submitted", "video.watched", "user.login"}
	var rows [][]any
	oldest, newest := to, from
	for range n {
		at := from.Add(time.Duration(rnd.Int64N(int64(to.Sub(from))))).Truncate(time.Millisecond)
		if at.Before(oldest) {
			oldest = at
		}
		if at.After(newest) {
			newest = at
		}
		rows = append(rows, []any{tenant, fmt.Sprintf("x-%d", rnd.Uint64()), types[rnd.IntN(len(types))], fmt.Sprintf("u%d", rnd.IntN(30)), at, at,
			map[string]any{"course_id": fmt.Sprintf("c%d", rnd.IntN(7)), "score": fmt.Sprint(rnd.IntN(100)), "seconds": fmt.Sprint(rnd.IntN(600))}})
	}
	require.NoError(t, v.db.Insert(as(tenant), store.Insert{Table: "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "occurred_at", "received_at", "properties"}, Rows: rows}))
	if !notify {
		return
	}
	before := v.versions.Current(tenant)
	data, err := json.Marshal(ingest.Notice{Tenant: tenant, Types: types, Count: n, OldestOccurredAt: oldest, NewestOccurredAt: newest})
	require.NoError(t, err)
	require.NoError(t, v.bus.Conn().Publish(ingest.NoticeSubject(tenant), data))
	deadline := time.Now().Add(5 * time.Second)
	for v.versions.Current(tenant) == before {
		require.True(t, time.Now().Before(deadline), "the notice never moved %s's version", tenant)
		time.Sleep(time.Millisecond)
	}
}

// assertWholeWindow checks every widget of out against the querier's
// answer over the whole window, one request alone: value by value for the
// widgets answered in parts, up to float rounding for the others (the
// loader may batch them differently).
func assertWholeWindow(t *testing.T, q *metrics.Querier, tenant string, d *Dashboard, out *Rendering) {
	t.Helper()
	ctx := as(tenant)
	for i, w := range d.Widgets {
		wd := out.Widgets[i]
		require.Nil(t, wd.Error, w.Title)
		for j, key := range w.MetricKeys {
			req := metrics.Request{MetricKey: key, Dimensions: w.Dimensions, Grain: widgetGrain(w), Limit: w.Limit,
				Timezone: d.Timezone, TimeRange: timerange.Spec{From: &out.Range.From, To: &out.Range.To}, Filters: out.Filters}
			want, err := q.Query(ctx, req)
			require.NoError(t, err)
			got := wd.Results[j]
			require.NotNil(t, got, "%s/%s", w.Title, key)
			if mergeable[key] {
				assert.Equal(t, want.Series, got.Series, "%s/%s: every bucket of every series", w.Title, key)
				assert.Equal(t, want.Totals, got.Totals, "%s/%s", w.Title, key)
				assert.Equal(t, want.Dimensions, got.Dimensions, "%s/%s", w.Title, key)
				assert.Equal(t, want.Grain, got.Grain, "%s/%s", w.Title, key)
				assert.Equal(t, want.Range, got.Range, "%s/%s", w.Title, key)
				continue
			}
			metricstest.AssertSameResult(t, want, got)
		}
	}
}

// The preset rendered from closed days and today equals the whole-window
// computation widget by widget, on random data, with and without filters,
// in UTC and in a zone half an hour off UTC; after a notice for today's
// events only today is read again, a late event for a past day reads the
// closed days again, and another tenant never gets the first one's parts.
func TestSplitRenderEqualsWholeWindow(t *testing.T) {
	cases := []struct {
		name    string
		zone    string
		filters []metrics.Filter
	}{
		{name: "utc"},
		{name: "kolkata filtered", zone: "Asia/Kolkata", filters: []metrics.Filter{{Dimension: "properties.course_id", Op: metrics.OpIn, Values: []string{"c1", "c3", "c6"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newVersioned(t)
			src := uint64(time.Now().UnixNano())
			t.Logf("random seed %d", src)
			rnd := rand.New(rand.NewPCG(src, 1))
			seed(t, v.db, "acme", 1000+rnd.IntN(2000), rnd.IntN(1000))
			seed(t, v.db, "globex", 500+rnd.IntN(1000), rnd.IntN(1000))
			v.clock.Advance(-time.Duration(1+rnd.IntN(20)) * time.Hour) // Jan 31, some hour: today is open
			now := v.clock.Now()
			ctx := as("acme")
			in, widgets := Preset()
			in.Slug, in.Timezone = "split-"+fmt.Sprint(rnd.IntN(1000)), tc.zone
			d, err := v.svc.Create(ctx, in, widgets)
			require.NoError(t, err)
			loc, err := timerange.Location(tc.zone, "timezone")
			require.NoError(t, err)
			today := timerange.GrainDay.Truncate(now, loc)

			// The preset's mergeable metrics have four distinct parts per
			// side: completions and enrolments by day, and by course.
			const parts = 4
			render := func(tenant, what string) (*Rendering, uint64) {
				t.Helper()
				before, stats, closed := v.counter.queries.Load(), v.svc.cfg.ResultCache.Stats(), 0
				v.counter.stmt = func(st store.Statement) {
					if slices.ContainsFunc(st.Args, func(a any) bool { at, ok := a.(time.Time); return ok && at.Before(today) }) {
						closed++
					}
				}
				out, err := v.svc.Render(as(tenant), d.ID, tc.filters, nil)
				v.counter.stmt = nil
				require.NoError(t, err)
				computes := v.svc.cfg.ResultCache.Stats().Computes - stats.Computes
				t.Logf("%s: %d engine statements (%d read closed days), %d results cache computations",
					what, v.counter.queries.Load()-before, closed, computes)
				return out, computes
			}
			first, cold := render("acme", "cold render")
			assertWholeWindow(t, v.q, "acme", d, first)
			assert.Equal(t, uint64(len(d.Widgets)+2*parts), cold, "every widget and every part computed once")

			v.addEvents(t, rnd, "acme", 20+rnd.IntN(50), today, now, true)
			afterToday, warm := render("acme", "after a notice of today's events")
			assertWholeWindow(t, v.q, "acme", d, afterToday)
			assert.Equal(t, uint64(len(d.Widgets)+parts), warm, "a notice of today's events recomputes today's parts only")

			v.addEvents(t, rnd, "acme", 5, today.AddDate(0, 0, -10), today.AddDate(0, 0, -9), true)
			afterLate, late := render("acme", "after a late event for a past day")
			assertWholeWindow(t, v.q, "acme", d, afterLate)
			assert.Equal(t, uint64(len(d.Widgets)+2*parts), late, "a late event recomputes the closed days too")

			// globex's preset-shaped dashboard: its own parts, never acme's.
			gd, err := v.svc.Create(as("globex"), in, widgets)
			require.NoError(t, err)
			gout, err := v.svc.Render(as("globex"), gd.ID, tc.filters, nil)
			require.NoError(t, err)
			assert.Zero(t, cachedWidgets(gout))
			assertWholeWindow(t, v.q, "globex", gd, gout)
			assert.NotEqual(t, enrolmentsTotal(t, afterLate), enrolmentsTotal(t, gout))
		})
	}
}
