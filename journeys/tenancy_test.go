package journeys_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// journey is a learner's enrolment, lesson and quiz at minute offsets.
func journey(user string, course string, minutes ...int) []journeys.Event {
	types := []string{"course.enrolled", "lesson.started", "quiz.submitted"}
	var out []journeys.Event
	for i, m := range minutes {
		out = append(out, journeys.Event{User: user, Type: types[i], At: t0.Add(time.Duration(m) * time.Minute), Props: map[string]string{"course": course}})
	}
	return out
}

// TestTenantsSeeOnlyTheirOwnJourneys runs every query on two tenants whose
// users share ids: tenant B's answers never include tenant A's events,
// a type only A recorded is unknown to B, and no tenant is no answer.
func TestTenantsSeeOnlyTheirOwnJourneys(t *testing.T) {
	now := t0.Add(30 * 24 * time.Hour)
	db, svc := setup(t, now)
	var a, b []journeys.Event
	for _, u := range []string{"u1", "u2", "u3", "u4"} {
		a = append(a, journey(u, "c1", 0, 1, 2)...)
	}
	a = append(a, journeys.Event{User: "u1", Type: "certificate.issued", At: t0.Add(3 * time.Minute)})
	b = append(b, journey("u1", "c9", 0, 1)...)
	b = append(b, journey("u9", "c9", 0)...)
	b = append(b, journeys.Event{User: "u8", Type: "quiz.submitted", At: t0.Add(-48 * time.Hour)}) // known to B, outside the range
	insert(t, db, "a", a)
	insert(t, db, "b", b)
	rng := timerange.Spec{From: ptr(t0), To: ptr(t0.Add(24 * time.Hour))}
	funnel := journeys.FunnelRequest{
		Steps:            []journeys.Step{{Matcher: journeys.Matcher{EventType: "course.enrolled"}}, {Matcher: journeys.Matcher{EventType: "lesson.started"}}, {Matcher: journeys.Matcher{EventType: "quiz.submitted"}}},
		ConversionWindow: time.Hour, TimeRange: rng, Breakdown: &journeys.Breakdown{Property: "course"},
	}
	entered := func(r *journeys.FunnelResult) []int64 {
		var out []int64
		for _, s := range r.Steps {
			out = append(out, s.Entered)
		}
		return out
	}
	resA, err := svc.Funnel(metricstest.As("a"), funnel)
	require.NoError(t, err)
	assert.Equal(t, []int64{4, 4, 4}, entered(resA))
	resB, err := svc.Funnel(metricstest.As("b"), funnel)
	require.NoError(t, err)
	assert.Equal(t, []int64{2, 1, 0}, entered(resB))
	require.Len(t, resB.Breakdowns, 1)
	assert.Equal(t, "c9", resB.Breakdowns[0].Value, "B sees only its own property values")

	actors, err := svc.FunnelActors(metricstest.As("b"), funnel, journeys.ActorsRequest{Step: 1})
	require.NoError(t, err)
	assert.Equal(t, []journeys.Actor{{UserID: "u1", Reached: 2}, {UserID: "u9", Reached: 1}}, actors.Actors)

	ret := journeys.RetentionRequest{StartEvent: journeys.Matcher{EventType: "course.enrolled"}, ReturnEvent: journeys.Matcher{EventType: "lesson.started"},
		Period: timerange.GrainDay, Periods: 2, TimeRange: rng}
	retB, err := svc.Retention(metricstest.As("b"), ret)
	require.NoError(t, err)
	assert.Equal(t, int64(2), retB.Cohorts[0].Size)
	assert.Equal(t, int64(0), retB.Cohorts[0].Cells[0].Users-2, "cell 0 is the size")

	paths, err := svc.Paths(metricstest.As("b"), journeys.PathsRequest{StartEvent: &journeys.Matcher{EventType: "course.enrolled"}, TimeRange: rng})
	require.NoError(t, err)
	assert.Equal(t, []journeys.PathEdge{{Step: 1, From: "course.enrolled", To: "lesson.started", Users: 1}}, paths.Edges)

	// A type only tenant A recorded is a typo for tenant B, named by field.
	cert := funnel
	cert.Steps = append(append([]journeys.Step{}, funnel.Steps...), journeys.Step{Matcher: journeys.Matcher{EventType: "certificate.issued"}})
	_, err = svc.Funnel(metricstest.As("a"), cert)
	require.NoError(t, err)
	_, err = svc.Funnel(metricstest.As("b"), cert)
	require.Error(t, err)
	assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
	var e *errs.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "steps[3].eventType", e.Fields["field"])

	// No verified tenant: every query fails closed.
	for name, call := range map[string]func(context.Context) error{
		"funnel":    func(ctx context.Context) error { _, err := svc.Funnel(ctx, funnel); return err },
		"retention": func(ctx context.Context) error { _, err := svc.Retention(ctx, ret); return err },
		"paths": func(ctx context.Context) error {
			_, err := svc.Paths(ctx, journeys.PathsRequest{TimeRange: rng})
			return err
		},
		"actors": func(ctx context.Context) error {
			_, err := svc.FunnelActors(ctx, funnel, journeys.ActorsRequest{Step: 1})
			return err
		},
	} {
		assert.Equal(t, errs.KindUnauthenticated, errs.KindOf(call(context.Background())), name)
	}
}

// TestCohortsRestrictTheUsers checks that a cohort filter keeps only its
// members, and that a cohort id of another tenant matches nobody.
func TestCohortsRestrictTheUsers(t *testing.T) {
	now := t0.Add(30 * 24 * time.Hour)
	db, svc := setup(t, now)
	var evs []journeys.Event
	for _, u := range []string{"u1", "u2", "u3"} {
		evs = append(evs, journey(u, "c1", 0, 1)...)
	}
	insert(t, db, "a", evs)
	insert(t, db, "b", journey("u1", "c1", 0, 1))
	ctx := context.Background()
	require.NoError(t, db.Exec(ctx, `INSERT INTO cohort_users (tenant_id, cohort_id, version, user_id) VALUES ('a', 'k', 1, 'u1'), ('a', 'k', 1, 'u3'), ('b', 'kb', 1, 'u1')`))
	require.NoError(t, db.Exec(ctx, `INSERT INTO cohort_evaluations (tenant_id, cohort_id, version, scheduled_for, evaluated_at, size, entered, exited, error)
		VALUES ('a', 'k', 1, now64(3), now64(3), 2, 2, 0, ''), ('b', 'kb', 1, now64(3), now64(3), 1, 1, 0, '')`))
	req := journeys.FunnelRequest{
		Steps:            []journeys.Step{{Matcher: journeys.Matcher{EventType: "course.enrolled"}}, {Matcher: journeys.Matcher{EventType: "lesson.started"}}},
		ConversionWindow: time.Hour, TimeRange: timerange.Spec{From: ptr(t0), To: ptr(t0.Add(time.Hour))},
	}
	for _, tc := range []struct {
		cohort string
		want   int64
	}{{"", 3}, {"k", 2}, {"kb", 0}} {
		r := req
		if tc.cohort != "" {
			r.Cohorts = []string{tc.cohort}
		}
		res, err := svc.Funnel(metricstest.As("a"), r)
		require.NoError(t, err)
		assert.Equal(t, tc.want, res.Steps[0].Entered, "cohort %q", tc.cohort)
	}
}
