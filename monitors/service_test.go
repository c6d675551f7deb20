package monitors_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/errs"
)

func TestCreateGetUpdateDeleteAndTenancy(t *testing.T) {
	e := setup(t)
	a, b := metricstest.As("tenant-a"), metricstest.As("tenant-b")

	m, err := e.svc.Create(a, monitors.Monitor{MetricKey: "enrolments", Grain: "DAY", Dimensions: []string{"properties.course_id"}, TopN: 3,
		Filters: []metrics.Filter{{Dimension: "type", Op: metrics.OpEq, Values: []string{"course.enrolled"}}}, Active: true})
	require.NoError(t, err)
	assert.Equal(t, "Enrolments", m.Name, "the name defaults to the metric's")
	assert.Equal(t, uint64(1), m.Version)
	assert.Equal(t, monitors.SensitivityMedium, m.Sensitivity)
	require.Len(t, e.queue.Take(monitors.KindBackfill), 1, "creation queues the backfill")

	got, err := e.svc.Get(a, m.ID)
	require.NoError(t, err)
	assert.Equal(t, m.Filters, got.Filters)
	assert.Equal(t, 3, got.EffectiveTopN())

	list, err := e.svc.Monitors(a)
	require.NoError(t, err)
	ids := idsOf(list)
	assert.Contains(t, ids, m.ID)
	for _, key := range []string{"active_learners_dau", "active_learners_wau", "active_learners_mau", "avg_quiz_score",
		"course_completion_rate", "course_completions", "new_learners"} {
		assert.Contains(t, ids, "key:"+key, "every key metric has a default monitor")
	}

	// Tenant B sees neither A's monitor nor can change it.
	_, err = e.svc.Get(b, m.ID)
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	listB, err := e.svc.Monitors(b)
	require.NoError(t, err)
	assert.NotContains(t, idsOf(listB), m.ID)
	_, err = e.svc.Update(b, m.ID, 1, monitors.Monitor{MetricKey: "enrolments", Grain: "DAY", Active: true})
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	_, err = e.svc.List(a, "tenant-b")
	assert.True(t, errs.Is(err, errs.KindForbidden), "a caller of A cannot list B's monitors: %v", err)

	_, err = e.svc.Update(a, m.ID, 7, monitors.Monitor{MetricKey: "enrolments", Grain: "HOUR", Active: true})
	assert.True(t, errs.Is(err, errs.KindConflict), "%v", err)
	up, err := e.svc.Update(a, m.ID, 1, monitors.Monitor{MetricKey: "enrolments", Grain: "HOUR", Sensitivity: monitors.SensitivityHigh, Active: true})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), up.Version)
	assert.Equal(t, 0.5, up.EffectiveThreshold())
	require.Len(t, e.queue.Take(monitors.KindBackfill), 1, "a new version is backfilled")

	require.NoError(t, e.svc.Delete(a, m.ID, 2))
	_, err = e.svc.Get(a, m.ID)
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)

	// Defaults: tuned (stored at version 1), never deleted.
	def, err := e.svc.Get(a, "key:new_learners")
	require.NoError(t, err)
	assert.True(t, def.Default)
	assert.Equal(t, uint64(0), def.Version)
	assert.Equal(t, monitors.GrainDay, def.Grain)
	off, err := e.svc.Update(a, "key:new_learners", 0, monitors.Monitor{MetricKey: "new_learners", Grain: "DAY", Active: false})
	require.NoError(t, err)
	assert.True(t, off.Default)
	assert.Equal(t, uint64(1), off.Version)
	got, err = e.svc.Get(a, "key:new_learners")
	require.NoError(t, err)
	assert.False(t, got.Active, "switched off")
	got, err = e.svc.Get(b, "key:new_learners")
	require.NoError(t, err)
	assert.True(t, got.Active, "B's default is its own")
	err = e.svc.Delete(a, "key:new_learners", 1)
	assert.Equal(t, "id", fieldOf(err))
	_, err = e.svc.Update(a, "key:new_learners", 1, monitors.Monitor{MetricKey: "enrolments", Grain: "DAY", Active: true})
	assert.Equal(t, "metricKey", fieldOf(err), "a default keeps its metric")
}

func TestBadInputNamesTheField(t *testing.T) {
	e := setup(t)
	a := metricstest.As("tenant-a")
	ok := func() monitors.Monitor { return monitors.Monitor{MetricKey: "enrolments", Grain: "DAY", Active: true} }
	for _, tc := range []struct {
		name  string
		edit  func(*monitors.Monitor)
		field string
	}{
		{"missing metric", func(m *monitors.Monitor) { m.MetricKey = "" }, "metricKey"},
		{"unknown metric", func(m *monitors.Monitor) { m.MetricKey = "no_such_metric" }, "metricKey"},
		{"week grain", func(m *monitors.Monitor) { m.Grain = "WEEK" }, "grain"},
		{"no grain", func(m *monitors.Monitor) { m.Grain = "" }, "grain"},
		{"unknown detector", func(m *monitors.Monitor) { m.Detector = "oracle" }, "detector"},
		{"bad sensitivity", func(m *monitors.Monitor) { m.Sensitivity = "EXTREME" }, "sensitivity"},
		{"threshold above 1", func(m *monitors.Monitor) { m.Threshold = 1.5 }, "threshold"},
		{"min history too long", func(m *monitors.Monitor) { m.MinHistory = 10_000 }, "minHistory"},
		{"too many dimensions", func(m *monitors.Monitor) { m.Dimensions = []string{"type", "properties.course_id", "user_id"} }, "dimensions"},
		{"topN too big", func(m *monitors.Monitor) { m.Dimensions, m.TopN = []string{"type"}, 500 }, "topN"},
		{"quiet hour 24", func(m *monitors.Monitor) { m.QuietHours = &monitors.QuietHours{From: 22, To: 24} }, "quietHours"},
		{"quiet zone", func(m *monitors.Monitor) { m.QuietHours = &monitors.QuietHours{From: 22, To: 6, Timezone: "Mars/Base"} }, "quietHours.timezone"},
		{"dimension not allowed", func(m *monitors.Monitor) { m.Dimensions = []string{"properties.secret"} }, "dimensions[0]"},
		{"filter not allowed", func(m *monitors.Monitor) {
			m.Filters = []metrics.Filter{{Dimension: "properties.secret", Op: metrics.OpEq, Values: []string{"x"}}}
		}, "filters[0].dimension"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ok()
			tc.edit(&m)
			_, err := e.svc.Create(a, m)
			require.Error(t, err)
			assert.True(t, errs.Is(err, errs.KindInvalid), "%v", err)
			assert.Equal(t, tc.field, fieldOf(err), "%v", err)
			assert.NotEmpty(t, errs.PublicMessage(err))
		})
	}
}

func idsOf(ms []*monitors.Monitor) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// fieldOf is the field a KindInvalid error names.
func fieldOf(err error) string {
	f, _ := errs.PublicFields(err)["field"].(string)
	return f
}
