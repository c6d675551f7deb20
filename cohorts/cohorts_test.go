package cohorts_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/cohorts"
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
}

func setup(t *testing.T) (*store.DB, *cohorts.Service, *bus.Bus) {
	t.Helper()
	db := storetest.Embedded(t)
	_, err := store.Migrate(context.Background(), db, store.MigrateOptions{})
	require.NoError(t, err)
	b, err := bus.Open(context.Background(), bus.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return db, cohorts.NewService(db, b, cohorts.Config{Now: func() time.Time { return t0 }}), b
}

func insert(t *testing.T, db *store.DB, tenant string, evs ...ev) {
	t.Helper()
	rows := make([][]any, len(evs))
	for i, e := range evs {
		rows[i] = []any{tenant, fmt.Sprintf("%s-%d-%d", tenant, i, rand.Int64()), e.typ, e.user, "", e.at, e.at, map[string]any{"course_id": e.course}}
	}
	require.NoError(t, db.Insert(context.Background(), store.Insert{Table: "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}, Rows: rows}))
}

func published(t *testing.T, b *bus.Bus) uint64 {
	t.Helper()
	s, err := b.JetStream().Stream(context.Background(), b.Stream())
	require.NoError(t, err)
	info, err := s.Info(context.Background())
	require.NoError(t, err)
	return info.State.Msgs
}

func TestEvaluateDiffIdempotencyAndTenancy(t *testing.T) {
	db, svc, b := setup(t)
	day := 24 * time.Hour
	insert(t, db, "a",
		ev{"u1", "lesson.completed", "c1", t0.Add(-day)}, ev{"u1", "lesson.completed", "c1", t0.Add(-2 * day)},
		ev{"u2", "lesson.completed", "c1", t0.Add(-day)},
		ev{"u3", "lesson.completed", "c1", t0.Add(-60 * day)}, ev{"u3", "lesson.completed", "c1", t0.Add(-61 * day)},
	)
	insert(t, db, "b", ev{"u9", "lesson.completed", "c1", t0.Add(-day)}, ev{"u9", "lesson.completed", "c1", t0.Add(-day)})
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

	again, err := svc.Evaluate(ctxA, c.ID, t0.Add(20*time.Second)) // same minute slot
	require.NoError(t, err)
	assert.Equal(t, first.Version, again.Version)
	assert.Equal(t, uint64(1), published(t, b), "one event for one slot")

	insert(t, db, "a", ev{"u2", "lesson.completed", "c1", t0.Add(-time.Hour)})
	insert(t, db, "a", ev{"u1", "quiz.submitted", "c1", t0.Add(-time.Hour)})
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
	insert(t, db, "a", ev{"u1", "user.login", "", t0.Add(-time.Hour)}, ev{"u2", "user.login", "", t0.Add(-time.Hour)},
		ev{"u2", "course.enrolled", "c1", t0.Add(-time.Hour)})
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

// TestCriteriaMatchAPlainEvaluator is a property test: random criteria over
// random events give the same members in SQL as a plain Go evaluation.
func TestCriteriaMatchAPlainEvaluator(t *testing.T) {
	db, svc, _ := setup(t)
	ctx := metricstest.As("p")
	rng := rand.New(rand.NewPCG(7, 11))
	types := []string{"user.login", "lesson.completed", "quiz.submitted"}
	var evs []ev
	for range 400 {
		evs = append(evs, ev{fmt.Sprintf("u%02d", rng.IntN(30)), types[rng.IntN(len(types))], fmt.Sprintf("c%d", rng.IntN(3)),
			t0.Add(-time.Duration(rng.IntN(90*24)) * time.Hour)})
	}
	insert(t, db, "p", evs...)
	insert(t, db, "other", ev{"u01", "quiz.submitted", "c1", t0.Add(-time.Hour)})
	for i := range 30 {
		crit := randomCriteria(rng, types, 0)
		c, err := svc.Create(ctx, cohorts.Cohort{Name: fmt.Sprintf("r%d", i), Criteria: &crit})
		require.NoError(t, err)
		_, err = svc.Evaluate(ctx, c.ID, t0)
		require.NoError(t, err)
		got, _, err := svc.Members(ctx, c.ID, 500, "")
		require.NoError(t, err)
		assert.Equal(t, goMembers(evs, crit), got, "case %d: %+v", i, crit)
	}
}

func randomCriteria(rng *rand.Rand, types []string, depth int) cohorts.Criteria {
	switch k := rng.IntN(6); {
	case depth < 2 && k == 0:
		return cohorts.Criteria{And: []cohorts.Criteria{randomCriteria(rng, types, depth+1), randomCriteria(rng, types, depth+1)}}
	case depth < 2 && k == 1:
		return cohorts.Criteria{Or: []cohorts.Criteria{randomCriteria(rng, types, depth+1), randomCriteria(rng, types, depth+1)}}
	case depth < 2 && k == 2:
		c := randomCriteria(rng, types, depth+1)
		return cohorts.Criteria{Not: &c}
	case k == 3:
		return cohorts.Criteria{FirstSeen: &cohorts.Seen{Before: fmt.Sprintf("%dd", 1+rng.IntN(80))}}
	case k == 4:
		return cohorts.Criteria{LastSeen: &cohorts.Seen{After: fmt.Sprintf("%dd", 1+rng.IntN(30))}}
	default:
		p := &cohorts.Performed{Type: types[rng.IntN(len(types))], Op: []string{"gte", "gt", "eq", "lt", "lte"}[rng.IntN(5)], Count: rng.IntN(4)}
		if rng.IntN(2) == 0 {
			p.Within = fmt.Sprintf("%dd", 1+rng.IntN(60))
		}
		if rng.IntN(3) == 0 {
			p.Where = map[string]string{"course_id": fmt.Sprintf("c%d", rng.IntN(3))}
		}
		return cohorts.Criteria{Performed: p}
	}
}

// goMembers evaluates crit over evs the plain way: per user.
func goMembers(evs []ev, crit cohorts.Criteria) []string {
	byUser := map[string][]ev{}
	for _, e := range evs {
		byUser[e.user] = append(byUser[e.user], e)
	}
	out := []string{}
	for u, es := range byUser {
		if match(es, crit) {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

func match(es []ev, c cohorts.Criteria) bool {
	back := func(w string) time.Time {
		var n int
		fmt.Sscanf(w, "%dd", &n)
		return t0.Add(-time.Duration(n) * 24 * time.Hour)
	}
	switch {
	case len(c.And) > 0:
		return match(es, c.And[0]) && match(es, c.And[1])
	case len(c.Or) > 0:
		return match(es, c.Or[0]) || match(es, c.Or[1])
	case c.Not != nil:
		return !match(es, *c.Not)
	case c.FirstSeen != nil:
		first := es[0].at
		for _, e := range es {
			if e.at.Before(first) {
				first = e.at
			}
		}
		return first.Before(back(c.FirstSeen.Before))
	case c.LastSeen != nil:
		last := es[0].at
		for _, e := range es {
			if e.at.After(last) {
				last = e.at
			}
		}
		return !last.Before(back(c.LastSeen.After))
	default:
		p := c.Performed
		n := 0
		for _, e := range es {
			if e.typ != p.Type || (p.Within != "" && e.at.Before(back(p.Within))) || (p.Where != nil && e.course != p.Where["course_id"]) {
				continue
			}
			n++
		}
		switch p.Op {
		case "gt":
			return n > p.Count
		case "eq":
			return n == p.Count
		case "lt":
			return n < p.Count
		case "lte":
			return n <= p.Count
		default:
			return n >= p.Count
		}
	}
}
