package insights_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/platform/auth"
)

// TestWhyDidCompletionsDrop is the acceptance: on the demo data the
// built-in analyst explains the planted drop with numbers that all trace to
// evidence, a chart, a confidence with reasons and the right periods, and
// re-running each evidence query gives the cited values.
func TestWhyDidCompletionsDrop(t *testing.T) {
	h := newHarness(t)
	month := demo.AnomalyMonth(demoOpts)
	ctx := as("demo", auth.RoleViewer)
	ans, err := insights.NewAnalyst(h.tools).Answer(ctx, "Why did course completions drop in "+month.Format("January")+"?", insights.Context{}, nil)
	require.NoError(t, err)
	t.Log(ans.Explanation)
	var events uint64
	require.NoError(t, h.db.QueryRow(context.Background(), []any{&events}, "SELECT count() FROM events"))
	t.Logf("answered in %d ms, %d ms of it in %d tool calls, over %d demo events (3 tenants)",
		ans.Provenance.LatencyMs, ans.Provenance.EngineMs, ans.Provenance.ToolCalls, events)

	in := ans.Interpretation
	assert.Equal(t, insights.KindWhyChanged, in.Kind)
	assert.Equal(t, "course_completions", in.MetricKey)
	require.NotNil(t, in.Period)
	require.NotNil(t, in.Compare)
	assert.Equal(t, [2]time.Time{month, month.AddDate(0, 1, 0)}, [2]time.Time{in.Period.From, in.Period.To}, "the planted month")
	assert.Equal(t, [2]time.Time{month.AddDate(0, -1, 0), month}, [2]time.Time{in.Compare.From, in.Compare.To}, "against the month before")

	assert.Equal(t, insights.Grounded, ans.Grounding.Status, "ungrounded: %v", ans.Grounding.Ungrounded)
	assert.GreaterOrEqual(t, ans.Grounding.Checked, 10, "the numbers were checked")
	assert.NotEmpty(t, ans.Charts)
	assert.NotEmpty(t, ans.Confidence.Reasons)
	assert.Equal(t, "HIGH", ans.Confidence.Level, "%v", ans.Confidence.Reasons)
	assert.Contains(t, ans.Explanation, "fell from")
	assert.Contains(t, ans.Explanation, "broad-based", "the drop is tenant-wide: every course lost completions")
	assert.Equal(t, insights.EngineBuiltin, ans.Provenance.Engine)
	assert.Equal(t, insights.PromptVersion, ans.Provenance.PromptVersion)
	assert.Positive(t, ans.Provenance.ToolCalls)

	// The totals against hand-written SQL.
	cur, prev := countCompleted(t, h, "demo", month, month.AddDate(0, 1, 0)), countCompleted(t, h, "demo", month.AddDate(0, -1, 0), month)
	assert.Contains(t, ans.Explanation, "from **"+itoa(prev)+"** in "+month.AddDate(0, -1, 0).Format("January 2006")+" to **"+itoa(cur)+"**")
	assert.Less(t, float64(cur)/float64(prev)*31/28, 0.6, "the planted drop is about 60 %%")

	// Every finding cites evidence that exists.
	ids := map[string]bool{}
	for _, e := range ans.Evidence {
		ids[e.ID] = true
	}
	for _, f := range ans.Findings {
		require.NotEmpty(t, f.Evidence, f.Text)
		for _, id := range f.Evidence {
			assert.True(t, ids[id], "%s cites unknown %s", f.Text, id)
		}
	}
	// Re-running every metric evidence gives the values it recorded.
	reran := 0
	for _, e := range ans.Evidence {
		if !strings.HasPrefix(e.Request, `{"MetricID"`) {
			continue
		}
		got, err := h.tools.RerunMetric(ctx, e)
		require.NoError(t, err, e.ID)
		assert.Equal(t, e.Values, got, e.ID)
		reran++
	}
	assert.GreaterOrEqual(t, reran, 4)
}

// countCompleted counts a tenant's course.completed events in [from, to) by hand.
func countCompleted(t *testing.T, h *harness, tenant string, from, to time.Time) int64 {
	t.Helper()
	var n uint64
	require.NoError(t, h.db.QueryRow(context.Background(), []any{&n},
		"SELECT count() FROM events FINAL WHERE tenant_id = ? AND type = 'course.completed' AND occurred_at >= ? AND occurred_at < ?", tenant, from, to))
	return int64(n)
}
