package api_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/auth"
)

// engineReads counts the engine statements that read events or rollups
// (what a metricQuery or eventTypeCounts costs; definitions and the
// catalog are read from their own table).
func (h *harness) engineReads() int {
	return h.engine.count("events") + h.engine.count("metrics_daily") - h.engine.count("events", "metrics_daily")
}

const cachedReads = `query($r: TimeRange!) {
  m: metricQuery(key: "lesson_completions", timeRange: $r, grain: DAY) { totals { value } path }
  c: eventTypeCounts(timeRange: $r) { type count }
}`

// TestResultCacheFollowsIngestNotices runs the real path: events published
// on JetStream, the direct ingest consumer storing them in the embedded
// engine and announcing each batch on NATS, the results cache following
// those notices. A repeated read costs no engine query; a committed event
// is never hidden behind the entry computed before it; another tenant's
// entries are not touched.
func TestResultCacheFollowsIngestNotices(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	h.runDirectIngest(ctx, t)
	vars := map[string]any{"r": map[string]any{"last": "30d"}}
	now := time.Now().UTC()
	h.insertEvents("tenant-a", event{"a1", "lesson.completed", now.Add(-time.Minute)})
	h.insertEvents("tenant-b", event{"b1", "lesson.completed", now.Add(-time.Minute)}, event{"b2", "lesson.completed", now.Add(-2 * time.Minute)})

	read := func(tenant string) (float64, string) {
		t.Helper()
		res := h.query(h.token(tenant, auth.RoleViewer), cachedReads, vars)
		require.Empty(t, res.Errors, "%+v", res.Errors)
		var m struct {
			Totals struct{ Value float64 }
		}
		require.NoError(t, json.Unmarshal(res.Data["m"], &m))
		return m.Totals.Value, string(res.Data["c"])
	}
	total, counts := read("tenant-a")
	assert.Equal(t, 1.0, total)
	assert.JSONEq(t, `[{"type":"lesson.completed","count":1}]`, counts)
	totalB, _ := read("tenant-b")
	assert.Equal(t, 2.0, totalB, "tenant B's own answer, not tenant A's entry")

	before := h.engineReads()
	for range 3 {
		total, counts = read("tenant-a")
	}
	assert.Equal(t, before, h.engineReads(), "repeated reads are answered from the cache")
	assert.Equal(t, 1.0, total)
	assert.JSONEq(t, `[{"type":"lesson.completed","count":1}]`, counts)

	evs := []ingest.Event{
		{ID: "rc-a2", TenantID: "tenant-a", Type: "lesson.completed", UserID: "u2", OccurredAt: time.Now().UTC().Add(-time.Minute), Properties: json.RawMessage(`{}`)},
		{ID: "rc-a3", TenantID: "tenant-a", Type: "user.login", UserID: "u2", OccurredAt: time.Now().UTC().Add(-time.Minute), Properties: json.RawMessage(`{}`)},
	}
	// The notice follows the commit: once the version moved, the very next
	// read must show the new events.
	h.publishCommitted(ctx, t, "tenant-a", evs)
	total, counts = read("tenant-a")
	assert.Equal(t, 2.0, total, "the committed event is not hidden behind the earlier entry")
	assert.JSONEq(t, `[{"type":"lesson.completed","count":2},{"type":"user.login","count":1}]`, counts)

	beforeB := h.engineReads()
	totalB, _ = read("tenant-b")
	assert.Equal(t, 2.0, totalB)
	assert.Equal(t, beforeB, h.engineReads(), "tenant A's notice left tenant B's entries in place")
}

// TestResultCacheSingleFlight sends identical metricQuery requests at once
// over HTTP: together they cost one engine query.
func TestResultCacheSingleFlight(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	now := time.Now().UTC()
	h.insertEvents("tenant-a", event{"a1", "course.enrolled", now.Add(-time.Hour)}, event{"a2", "course.enrolled", now.Add(-2 * time.Hour)})
	// Warm the catalog and definitions with another window.
	res := h.query(h.token("tenant-a", auth.RoleViewer), `{ metricQuery(key: "enrolments", timeRange: {last: "2d"}, grain: NONE) { path } }`, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)

	const n = 16
	q := `{ metricQuery(key: "enrolments", timeRange: {last: "30d"}, grain: DAY) { totals { value } } }`
	tok := h.token("tenant-a", auth.RoleViewer)
	before, statsBefore := h.engineReads(), h.results.Stats()
	var wg sync.WaitGroup
	start := make(chan struct{})
	answers := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := h.query(tok, q, nil)
			if assert.Empty(t, r.Errors) {
				answers[i] = string(r.Data["metricQuery"])
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, a := range answers {
		assert.JSONEq(t, `{"totals":{"value":2}}`, a)
	}
	// A COUNT by day over a window that reaches today is cached in two
	// parts (closed days, today; see TestResultCacheSplitsClosedDaysFromToday);
	// the closed days' rollup read lists the days written since their
	// rebuild first (metrics_daily_writes): 2 + 1 statements.
	assert.Equal(t, 3, h.engineReads()-before, "%d identical requests cost one computation per part", n)
	st := h.results.Stats()
	assert.Equal(t, uint64(2), st.Computes-statsBefore.Computes)
	t.Logf("of %d requests: %d shared the computation in flight, %d hit the stored entry", n, st.Shared-statsBefore.Shared, st.Hits-statsBefore.Hits)
}
