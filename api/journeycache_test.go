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

// TestJourneysFollowIngestNotices: funnelQuery, retentionQuery and
// pathsQuery over `last: 60d` read through the results cache. Repeated
// reads cost no engine query; an event committed by the real ingest path
// is in the first read after its notice; tenant B's entries and answers
// stay its own; identical concurrent reads cost one computation.
func TestJourneysFollowIngestNotices(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	h.runDirectIngest(ctx, t)
	journeyData(h)
	last := map[string]any{"last": "60d"}
	reads := map[string]struct {
		query string
		in    map[string]any
	}{
		"funnel": {`query($in: FunnelInput!) { funnelQuery(input: $in) { steps { entered } } }`,
			map[string]any{"steps": learnerSteps[:2], "conversionWindow": "30d", "timeRange": last}},
		"retention": {`query($in: RetentionInput!) { retentionQuery(input: $in) { cohorts { size } } }`,
			map[string]any{"startEvent": map[string]any{"eventType": "course.enrolled"}, "returnEvent": map[string]any{"eventType": "lesson.completed"},
				"period": "WEEK", "periods": 2, "timeRange": last}},
		"paths": {`query($in: PathsInput!) { pathsQuery(input: $in) { nodes { step eventType users } } }`,
			map[string]any{"startEvent": map[string]any{"eventType": "course.enrolled"}, "steps": 2, "timeRange": last}},
	}
	read := func(tenant, name string) string {
		t.Helper()
		r := reads[name]
		res := h.query(h.token(tenant, auth.RoleViewer), r.query, map[string]any{"in": r.in})
		require.Empty(t, res.Errors, "%s: %+v", name, res.Errors)
		for _, v := range res.Data {
			return string(v)
		}
		return ""
	}
	enrolled := func(tenant string) int64 {
		t.Helper()
		var f struct{ Steps []struct{ Entered int64 } }
		require.NoError(t, json.Unmarshal([]byte(read(tenant, "funnel")), &f))
		return f.Steps[0].Entered
	}
	first := map[string]string{}
	for name := range reads {
		first[name] = read("tenant-a", name)
		assert.NotEqual(t, first[name], read("tenant-b", name), "%s: tenant B's own answer, not tenant A's entry", name)
	}
	assert.Equal(t, int64(6), enrolled("tenant-a"))
	assert.Equal(t, int64(1), enrolled("tenant-b"))

	before := h.engineReads()
	for name := range reads {
		assert.Equal(t, first[name], read("tenant-a", name))
	}
	assert.Equal(t, before, h.engineReads(), "repeated journey reads are answered from the cache")

	versionBefore := h.versions.Current("tenant-a")
	results, err := ingest.NewPublisher(h.bus.JetStream()).Publish(ctx, []ingest.Event{{ID: "jc-a7", TenantID: "tenant-a",
		Type: "course.enrolled", UserID: "u7", OccurredAt: time.Now().UTC().Add(-time.Minute), Properties: json.RawMessage(`{"course_id":"c1"}`)}})
	require.NoError(t, err)
	for _, r := range results {
		require.NoError(t, r)
	}
	deadline := time.Now().Add(30 * time.Second)
	for h.versions.Current("tenant-a") == versionBefore {
		require.True(t, time.Now().Before(deadline), "no commit notice for tenant A")
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, int64(7), enrolled("tenant-a"), "the committed enrolment is not hidden behind the earlier entry")
	assert.NotEqual(t, first["paths"], read("tenant-a", "paths"))

	beforeB := h.engineReads()
	assert.Equal(t, int64(1), enrolled("tenant-b"))
	assert.Equal(t, beforeB, h.engineReads(), "tenant A's notice left tenant B's entries in place")

	h.versions.Bump("tenant-a")
	stats := h.results.Stats()
	const n = 12
	answers := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			r := reads["retention"]
			res := h.query(h.token("tenant-a", auth.RoleViewer), r.query, map[string]any{"in": r.in})
			if assert.Empty(t, res.Errors) {
				answers[i] = string(res.Data["retentionQuery"])
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, uint64(1), h.results.Stats().Computes-stats.Computes, "%d identical retention reads cost one computation", n)
	for _, a := range answers {
		assert.Equal(t, answers[0], a)
	}
}
