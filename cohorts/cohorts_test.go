package cohorts_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

type ev struct {
	user, typ, course string
	at                time.Time
	props             map[string]any // besides course_id
}

func setup(t *testing.T) (*store.DB, *cohorts.Service, *bus.Bus) {
	t.Helper()
	return setupWith(t, func(r *metrics.Registry) cohorts.MetricLookup { return r })
}

// setupWith is setup with the metric lookup the service gets built from
// the registry (a test may wrap it to inject faults).
func setupWith(t *testing.T, lookup func(*metrics.Registry) cohorts.MetricLookup) (*store.DB, *cohorts.Service, *bus.Bus) {
	t.Helper()
	db := storetest.Embedded(t)
	_, err := store.Migrate(context.Background(), db, store.MigrateOptions{})
	require.NoError(t, err)
	b, err := bus.Open(context.Background(), bus.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	reg := metrics.NewRegistry(db, metrics.Config{Now: func() time.Time { return t0 }})
	return db, cohorts.NewService(db, b, cohorts.Config{Now: func() time.Time { return t0 }, Metrics: lookup(reg)}), b
}

func insert(t *testing.T, db *store.DB, tenant string, evs ...ev) {
	t.Helper()
	rows := make([][]any, len(evs))
	for i, e := range evs {
		props := map[string]any{"course_id": e.course}
		maps.Copy(props, e.props)
		rows[i] = []any{tenant, fmt.Sprintf("%s-%d-%d", tenant, i, rand.Int64()), e.typ, e.user, "", e.at, e.at, props}
	}
	require.NoError(t, db.Insert(context.Background(), store.Insert{Table: "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}, Rows: rows}))
}

func published(t *testing.T, b *bus.Bus) uint64 {
	t.Helper()
	s, err := b.JetStream().Stream(context.Background(), b.Stream())
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(cohorts.SubjectEvaluated))
	require.NoError(t, err)
	return info.State.Subjects[cohorts.SubjectEvaluated]
}

func TestEvaluateDiffIdempotencyAndTenancy(t *testing.T) {
	db, svc, b := setup(t)
	day := 24 * time.Hour
	insert(t, db, "a",
		ev{"u1", "lesson.completed", "c1", t0.Add(-day), nil}, ev{"u1", "lesson.completed", "c1", t0.Add(-2 * day), nil},
		ev{"u2", "lesson.completed", "c1", t0.Add(-day), nil},
		ev{"u3", "lesson.completed", "c1", t0.Add(-60 * day), nil}, ev{"u3", "lesson.completed", "c1", t0.Add(-61 * day), nil},
	)
	insert(t, db, "b", ev{"u9", "lesson.completed", "c1", t0.Add(-day), nil}, ev{"u9", "lesson.completed", "c1", t0.Add(-day), nil})
	ctxA, ctxB := metricstest.As("a"), metricstest.As("b")

	c, err := svc.Create(ctxA, cohorts.Cohort{Name: "Active", Active: true, Criteria: &cohorts.Criteria{
		Performed: &cohorts.Performed{Type: "lesson.completed", Count: 2, Within: "30d", Where: map[string]string{"course_id": "c1"}}}})
	require.NoError(t, err)

	first, err := svc.Evaluate(ctxA, c.ID, t0)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), first.Size)
	assert.Equal(t, uint64(1), first.Entered)
	members, more, err := svc.Members(ctxA, c.ID, 10, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"u1"}, members, "tenant b's u9 has the same events but is not a's member")
	assert.False(t, more)

	for _, at := range []time.Time{t0, t0.Add(20 * time.Second)} { // the same hour slot, as the job enqueues it
		again, err := svc.Evaluate(ctxA, c.ID, at)
		require.NoError(t, err)
		assert.Equal(t, first.Version, again.Version)
	}
	assert.Equal(t, uint64(1), published(t, b), "one event on the subject for one slot")

	insert(t, db, "a", ev{"u2", "lesson.completed", "c1", t0.Add(-time.Hour), nil})
	insert(t, db, "a", ev{"u1", "quiz.submitted", "c1", t0.Add(-time.Hour), nil})
	second, err := svc.Evaluate(ctxA, c.ID, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, uint64(2), second.Size)
	assert.Equal(t, uint64(1), second.Entered, "u2 entered")
	assert.Equal(t, uint64(0), second.Exited)
	assert.Equal(t, uint64(2), published(t, b))

	hist, err := svc.History(ctxA, c.ID, 10)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.Equal(t, uint64(2), hist[0].Size, "newest first")
	sizes, err := svc.SizeHistory(ctxA, c.ID)
	require.NoError(t, err)
	require.Len(t, sizes, 2)
	assert.Equal(t, []uint64{1, 2}, []uint64{sizes[0].Size, sizes[1].Size}, "oldest first")
	entered, more, err := svc.Changes(ctxA, c.ID, second.Version, true, 10, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"u2"}, entered)
	assert.False(t, more)
	_, _, err = svc.Changes(ctxB, c.ID, second.Version, true, 10, "")
	assert.True(t, errs.Is(err, errs.KindNotFound), "tenant b cannot page a's changes")
	_, err = svc.SizeHistory(ctxB, c.ID)
	assert.True(t, errs.Is(err, errs.KindNotFound), "tenant b cannot read a's size history")
	list, err := svc.List(ctxB)
	require.NoError(t, err)
	assert.Empty(t, list, "tenant b lists none of a's cohorts")

	_, err = svc.Get(ctxB, c.ID)
	assert.True(t, errs.Is(err, errs.KindNotFound), "tenant b cannot see a's cohort")
	_, err = svc.Evaluate(ctxB, c.ID, t0)
	assert.True(t, errs.Is(err, errs.KindNotFound), "tenant b cannot evaluate a's cohort")
	_, _, err = svc.Members(ctxB, c.ID, 10, "")
	assert.True(t, errs.Is(err, errs.KindNotFound), "tenant b cannot page a's members")
	_, err = svc.Get(context.Background(), c.ID)
	assert.True(t, errs.Is(err, errs.KindUnauthenticated), "no tenant, no read")
}

func TestReferencesCyclesAndBrokenReferences(t *testing.T) {
	db, svc, _ := setup(t)
	ctx := metricstest.As("a")
	insert(t, db, "a", ev{"u1", "user.login", "", t0.Add(-time.Hour), nil}, ev{"u2", "user.login", "", t0.Add(-time.Hour), nil},
		ev{"u2", "course.enrolled", "c1", t0.Add(-time.Hour), nil})
	base, err := svc.Create(ctx, cohorts.Cohort{Name: "Enrolled", Criteria: &cohorts.Criteria{Performed: &cohorts.Performed{Type: "course.enrolled", Count: 1}}})
	require.NoError(t, err)
	_, err = svc.Evaluate(ctx, base.ID, t0)
	require.NoError(t, err)
	notIn, err := svc.Create(ctx, cohorts.Cohort{Name: "Not enrolled", Criteria: &cohorts.Criteria{Not: &cohorts.Criteria{InCohort: base.ID}}})
	require.NoError(t, err)
	_, err = svc.Evaluate(ctx, notIn.ID, t0)
	require.NoError(t, err)
	members, _, err := svc.Members(ctx, notIn.ID, 10, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"u1"}, members)

	_, err = svc.Update(ctx, base.ID, base.Version, cohorts.Cohort{Name: "Loop", Criteria: &cohorts.Criteria{InCohort: notIn.ID}})
	require.Error(t, err)
	assert.True(t, errs.Is(err, errs.KindInvalid))
	assert.Contains(t, errs.PublicMessage(err), "cycle")

	_, err = svc.Create(ctx, cohorts.Cohort{Name: "Bad", Criteria: &cohorts.Criteria{And: []cohorts.Criteria{
		{Performed: &cohorts.Performed{Type: "user.login", Count: 1}}, {Performed: &cohorts.Performed{Type: "user.login", Op: "about", Count: 1}}}}})
	require.Error(t, err)
	assert.Equal(t, "criteria.and[1].performed.op", errs.PublicFields(err)["field"], "the error names the node")

	require.NoError(t, svc.Delete(ctx, base.ID, base.Version))
	_, err = svc.Evaluate(ctx, notIn.ID, t0.Add(time.Hour))
	require.Error(t, err)
	assert.Contains(t, errs.PublicMessage(err), "no longer exists")
	members, _, err = svc.Members(ctx, notIn.ID, 10, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"u1"}, members, "the last good membership stays in force")
	hist, err := svc.History(ctx, notIn.ID, 10)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.NotEmpty(t, hist[0].Error, "the failed evaluation is recorded")
}
