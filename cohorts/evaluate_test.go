package cohorts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/cohorts/membership"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// forgetful wraps the registry and can lose metrics, as a metric removed
// after a cohort was defined on it.
type forgetful struct {
	reg  *metrics.Registry
	gone map[string]bool
}

func (f *forgetful) GetByKey(ctx context.Context, key string) (*metrics.Definition, error) {
	if f.gone[key] {
		return nil, errs.E("test", errs.KindNotFound, "gone")
	}
	return f.reg.GetByKey(ctx, key)
}

func TestMetricConditionsUsagesAndMissingMetric(t *testing.T) {
	var lookup *forgetful
	db, svc, _ := setupWith(t, func(r *metrics.Registry) cohorts.MetricLookup {
		lookup = &forgetful{reg: r, gone: map[string]bool{}}
		return lookup
	})
	ctx := metricstest.As("a")
	quiz := func(user string, score int, ago time.Duration) ev {
		return ev{user, "quiz.submitted", "c1", t0.Add(-ago), map[string]any{"score": score}}
	}
	insert(t, db, "a", quiz("u1", 40, time.Hour), quiz("u1", 50, 2*time.Hour), quiz("u2", 90, time.Hour),
		quiz("u3", 20, 40*24*time.Hour), ev{"u4", "user.login", "", t0.Add(-time.Hour), nil})

	struggling, err := svc.Create(ctx, cohorts.Cohort{Name: "Struggling", Criteria: &cohorts.Criteria{
		Metric: &cohorts.MetricThreshold{Key: "avg_quiz_score", Op: "<", Value: 60, Within: "30d"}}})
	require.NoError(t, err)
	_, err = svc.Evaluate(ctx, struggling.ID, t0)
	require.NoError(t, err)
	members, _, err := svc.Members(ctx, struggling.ID, 10, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"u1"}, members, "u2 averages 90, u3 scored outside the window, u4 took no quiz")

	used, err := svc.MetricUsages(ctx, "a", "", "avg_quiz_score")
	require.NoError(t, err)
	assert.Equal(t, []metrics.Usage{{EntityType: cohorts.UsageEntityType, EntityID: struggling.ID, Name: "Struggling"}}, used)
	used, err = svc.MetricUsages(ctx, "a", "", "quiz_passes")
	require.NoError(t, err)
	assert.Empty(t, used)
	_, err = svc.MetricUsages(ctx, "b", "", "avg_quiz_score")
	assert.Error(t, err, "a caller cannot ask about another tenant")

	_, err = svc.Create(ctx, cohorts.Cohort{Name: "Typo", Criteria: &cohorts.Criteria{
		Metric: &cohorts.MetricThreshold{Key: "avg_quiz_scor", Op: "<", Value: 60}}})
	require.Error(t, err)
	assert.Equal(t, "criteria.metric.key", errs.PublicFields(err)["field"])

	lookup.gone["avg_quiz_score"] = true
	_, err = svc.Evaluate(ctx, struggling.ID, t0.Add(time.Hour))
	require.Error(t, err)
	assert.Contains(t, errs.PublicMessage(err), `metric "avg_quiz_score" does not exist`)
	assert.Contains(t, errs.PublicMessage(err), "last good membership stays in force")
	members, _, err = svc.Members(ctx, struggling.ID, 10, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"u1"}, members, "the last good membership stays in force")
	hist, err := svc.History(ctx, struggling.ID, 10)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.Contains(t, hist[0].Error, "does not exist", "the failure is recorded in cohort_evaluations")
}

func TestMembershipIsTenantGuarded(t *testing.T) {
	db, svc, _ := setup(t)
	insert(t, db, "a", ev{"u1", "user.login", "", t0.Add(-time.Hour), nil}, ev{"u1", "lesson.completed", "c1", t0.Add(-time.Hour), nil},
		ev{"u2", "user.login", "", t0.Add(-time.Hour), nil})
	insert(t, db, "b", ev{"u1", "user.login", "", t0.Add(-time.Hour), nil})
	ctx := metricstest.As("a")
	c, err := svc.Create(ctx, cohorts.Cohort{Name: "Learners", Criteria: &cohorts.Criteria{Performed: &cohorts.Performed{Type: "lesson.completed", Count: 1}}})
	require.NoError(t, err)

	count := func(tenant string) uint64 {
		t.Helper()
		scope, err := store.DangerousScopeForTenant(tenant)
		require.NoError(t, err)
		frag, args := membership.Filter(scope, c.ID)
		var n uint64
		require.NoError(t, db.QueryRow(context.Background(), []any{&n},
			"SELECT count() FROM events FINAL WHERE tenant_id = ? AND "+frag, append([]any{tenant}, args...)...))
		return n
	}
	assert.Equal(t, uint64(0), count("a"), "never evaluated: no members")
	_, err = svc.Evaluate(ctx, c.ID, t0)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), count("a"), "both events of u1")
	assert.Equal(t, uint64(0), count("b"), "b's u1 is not in a's cohort")
}

func TestStaticCohortAndUpdate(t *testing.T) {
	_, svc, _ := setup(t)
	ctx := metricstest.As("a")
	c, err := svc.Create(ctx, cohorts.Cohort{Name: "Pilot", Static: []string{"u3", "u1", "u2"}})
	require.NoError(t, err)
	ev1, err := svc.Evaluate(ctx, c.ID, t0)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), ev1.Size)
	c, err = svc.Update(ctx, c.ID, c.Version, cohorts.Cohort{Name: "Pilot", Static: []string{"u1", "u4"}})
	require.NoError(t, err)
	ev2, err := svc.Evaluate(ctx, c.ID, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, [3]uint64{2, 1, 2}, [3]uint64{ev2.Size, ev2.Entered, ev2.Exited}, "u4 entered; u2 and u3 exited")
	exited, _, err := svc.Changes(ctx, c.ID, ev2.Version, false, 10, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"u2", "u3"}, exited)
	_, err = svc.Create(ctx, cohorts.Cohort{Name: "Blank", Static: []string{"u1", ""}})
	assert.Equal(t, "static[1]", errs.PublicFields(err)["field"])
	_, err = svc.Update(ctx, c.ID, 1, cohorts.Cohort{Name: "Stale", Static: []string{"u1"}})
	assert.True(t, errs.Is(err, errs.KindConflict), "a stale expected version is a conflict")
}

func TestEvaluatedEventCapsIdsAndSaysHowToPage(t *testing.T) {
	_, svc, b := setup(t)
	ctx := metricstest.As("a")
	ids := make([]string, 1001)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%04d", i)
	}
	c, err := svc.Create(ctx, cohorts.Cohort{Name: "Big", Static: ids})
	require.NoError(t, err)
	res, err := svc.Evaluate(ctx, c.ID, t0)
	require.NoError(t, err)

	stream, err := b.JetStream().Stream(context.Background(), b.Stream())
	require.NoError(t, err)
	msg, err := stream.GetLastMsgForSubject(context.Background(), cohorts.SubjectEvaluated)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("cohort.evaluated/a/%s/%d", c.ID, res.Version), msg.Header.Get("Nats-Msg-Id"))
	var got cohorts.Evaluated
	require.NoError(t, json.Unmarshal(msg.Data, &got))
	assert.Equal(t, "a", got.Tenant)
	assert.Equal(t, [3]uint64{1001, 1001, 0}, [3]uint64{got.Size, got.Entered, got.Exited})
	require.Len(t, got.EnteredUsers, cohorts.MaxIDsInEvent)
	assert.Empty(t, got.ExitedUsers)
	assert.True(t, got.Truncated)
	require.NotNil(t, got.More)
	assert.Equal(t, "u0999", got.More.EnteredAfter)
	assert.Contains(t, got.More.Query, "changes(version: ")

	rest, more, err := svc.Changes(ctx, c.ID, got.Version, true, 500, got.More.EnteredAfter)
	require.NoError(t, err)
	assert.Equal(t, []string{"u1000"}, rest)
	assert.False(t, more)
}
