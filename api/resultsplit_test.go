package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/auth"
)

// splitReads asks for the two additive reads the results cache splits into
// closed days and today: a COUNT metric by day and the event type counts.
const splitReads = `{
  m: metricQuery(key: "enrolments", timeRange: {last: "30d"}, grain: DAY) { totals { value } series { total { value } points { bucket value } } path }
  c: eventTypeCounts(timeRange: {last: "30d"}) { type count }
}`

// splitAnswer is what splitReads returns, in comparable form.
type splitAnswer struct {
	Total  float64
	ByDay  map[string]float64 // bucket (UTC day) → enrolments, zero days left out
	Counts string             // eventTypeCounts as JSON
}

// TestResultCacheSplitsClosedDaysFromToday checks the split on random data
// against counts written by hand: after the first read, a commit of today's
// events recomputes only today (one engine read per query), a late event
// for a past day recomputes the closed days too, and every answer equals
// a count of what was stored. Tenant B never sees tenant A's events.
func TestResultCacheSplitsClosedDaysFromToday(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h.runDirectIngest(ctx, t)

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	types := []string{"course.enrolled", "lesson.completed", "user.login"}
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	var stored []event
	for i := range 300 {
		// Anywhere in the last 29 days up to a minute ago (today included).
		at := now.Add(-time.Minute - time.Duration(rng.Int64N(int64(29*24*time.Hour))))
		stored = append(stored, event{fmt.Sprintf("r%d", i), types[rng.IntN(len(types))], at})
	}
	h.insertEvents("tenant-a", stored...)
	h.insertEvents("tenant-b", event{"b1", "course.enrolled", now.Add(-48 * time.Hour)})

	want := func(evs []event) splitAnswer {
		a := splitAnswer{ByDay: map[string]float64{}}
		counts := map[string]int{}
		for _, e := range evs {
			counts[e.typ]++
			if e.typ == "course.enrolled" {
				a.Total++
				a.ByDay[e.at.Truncate(24*time.Hour).Format(time.RFC3339)]++
			}
		}
		type tc struct {
			Type  string `json:"type"`
			Count int    `json:"count"`
		}
		var list []tc
		for typ, n := range counts {
			list = append(list, tc{typ, n})
		}
		slices.SortFunc(list, func(x, y tc) int {
			if x.Count != y.Count {
				return y.Count - x.Count
			}
			return strings.Compare(x.Type, y.Type)
		})
		raw, err := json.Marshal(list)
		require.NoError(t, err)
		a.Counts = string(raw)
		return a
	}
	read := func(tenant string) splitAnswer {
		t.Helper()
		res := h.query(h.token(tenant, auth.RoleViewer), splitReads, nil)
		require.Empty(t, res.Errors, "%+v", res.Errors)
		var m struct {
			Path   string
			Totals struct{ Value float64 }
			Series []struct {
				Total  struct{ Value float64 }
				Points []struct {
					Bucket time.Time
					Value  float64
				}
			}
		}
		require.NoError(t, json.Unmarshal(res.Data["m"], &m))
		require.Len(t, m.Series, 1)
		assert.Equal(t, "rollup", m.Path, "the closed days come from the rollup, as a whole-window read")
		got := splitAnswer{Total: m.Totals.Value, ByDay: map[string]float64{}, Counts: string(res.Data["c"])}
		assert.Equal(t, m.Totals.Value, m.Series[0].Total.Value, "the series total is the total")
		assert.Len(t, m.Series[0].Points, 31, "one point per day of the aligned window, gaps filled")
		for i, p := range m.Series[0].Points {
			if i > 0 {
				assert.Equal(t, m.Series[0].Points[i-1].Bucket.Add(24*time.Hour), p.Bucket, "buckets follow each other")
			}
			if p.Value != 0 {
				got.ByDay[p.Bucket.UTC().Format(time.RFC3339)] = p.Value
			}
		}
		return got
	}
	check := func(tenant string, evs []event) {
		t.Helper()
		w, got := want(evs), read(tenant)
		assert.Equal(t, w.Total, got.Total)
		assert.Equal(t, w.ByDay, got.ByDay)
		assert.JSONEq(t, w.Counts, got.Counts)
	}
	check("tenant-a", stored)
	check("tenant-b", []event{{"b1", "course.enrolled", now.Add(-48 * time.Hour)}})

	publish := func(evs ...event) {
		t.Helper()
		var in []ingest.Event
		for _, e := range evs {
			in = append(in, ingest.Event{ID: e.id, TenantID: "tenant-a", Type: e.typ, UserID: "u9", OccurredAt: e.at, Properties: json.RawMessage(`{}`)})
		}
		h.publishCommitted(ctx, t, "tenant-a", in)
		stored = append(stored, evs...)
	}
	todayAt := now.Add(-time.Second)
	if todayAt.Before(today) {
		todayAt = today
	}
	cases := []struct {
		name      string
		evs       []event
		wantReads int
	}{
		{"repeated reads are answered from the cache", nil, 0},
		{"today's commit recomputes today only", []event{{"t1", "course.enrolled", todayAt}, {"t2", "user.login", todayAt}}, 2},
		// Closed days and today of both reads, and the closed metric's list of
		// days written since their rollup rebuild.
		{"a late event for a past day recomputes the closed days", []event{{"late1", "course.enrolled", today.Add(-3*24*time.Hour + time.Hour)}}, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.evs) > 0 {
				publish(tc.evs...)
			}
			before := h.engineReads()
			check("tenant-a", stored)
			assert.Equal(t, tc.wantReads, h.engineReads()-before, "engine reads")
		})
	}
	check("tenant-b", []event{{"b1", "course.enrolled", now.Add(-48 * time.Hour)}})
}

// publishCommitted sends evs through the real ingest path (JetStream, the
// direct consumer of runDirectIngest) and waits until their commit notice
// moved tenant's data version.
func (h *harness) publishCommitted(ctx context.Context, t *testing.T, tenant string, evs []ingest.Event) {
	t.Helper()
	before := h.versions.Current(tenant)
	results, err := ingest.NewPublisher(h.bus.JetStream()).Publish(ctx, evs)
	require.NoError(t, err)
	for _, r := range results {
		require.NoError(t, r)
	}
	deadline := time.Now().Add(30 * time.Second)
	for h.versions.Current(tenant) == before {
		require.True(t, time.Now().Before(deadline), "no commit notice for %s", tenant)
		time.Sleep(5 * time.Millisecond)
	}
}
