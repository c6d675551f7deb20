package journeys_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/demo/demotest"
	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// pagedActors collects a step's users through FunnelActors, page by page.
func pagedActors(t *testing.T, svc *journeys.Service, tenant string, r journeys.FunnelRequest, a journeys.ActorsRequest) ([]string, int) {
	t.Helper()
	var ids []string
	pages := 0
	for {
		page, err := svc.FunnelActors(metricstest.As(tenant), r, a)
		require.NoError(t, err)
		pages++
		for _, act := range page.Actors {
			ids = append(ids, act.UserID)
		}
		if !page.HasNext {
			return ids, pages
		}
		a.After = page.EndCursor
	}
}

func TestFunnelActorIDsEqualEveryPageInOneStatement(t *testing.T) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	db, svc := setup(t, end)
	demotest.Seed(t, db, demo.Options{Learners: 3000, Days: 120, End: end})
	from := end.AddDate(0, 0, -120)
	r := journeys.FunnelRequest{ConversionWindow: 30 * 24 * time.Hour, TimeRange: timerange.Spec{From: ptr(from), To: ptr(end)},
		Steps: []journeys.Step{{Matcher: journeys.Matcher{EventType: "course.enrolled"}}, {Matcher: journeys.Matcher{EventType: "lesson.started"}},
			{Matcher: journeys.Matcher{EventType: "course.completed"}}}}
	for _, a := range []journeys.ActorsRequest{{Step: 1}, {Step: 2, Dropped: true}, {Step: 3}} {
		start := time.Now()
		paged, pages := pagedActors(t, svc, "demo", r, journeys.ActorsRequest{Step: a.Step, Dropped: a.Dropped, First: journeys.MaxActors})
		tPaged := time.Since(start)
		start = time.Now()
		ids, err := svc.FunnelActorIDs(metricstest.As("demo"), r, a, 100_000)
		tOne := time.Since(start)
		require.NoError(t, err)
		assert.Equal(t, paged, ids, "step %d dropped %v", a.Step, a.Dropped)
		t.Logf("step %d dropped=%v: %d users; %d pages of 1000 in %v, one statement in %v", a.Step, a.Dropped, len(ids), pages, tPaged, tOne)
	}
	_, err := svc.FunnelActorIDs(metricstest.As("demo"), r, journeys.ActorsRequest{Step: 1}, 10)
	require.True(t, errs.Is(err, errs.KindInvalid), "%v", err)
	assert.Equal(t, "step", errs.PublicFields(err)["field"])
	// Another tenant's step users are its own.
	other, err := svc.FunnelActorIDs(metricstest.As("acme-corp"), r, journeys.ActorsRequest{Step: 1}, 100_000)
	require.NoError(t, err)
	mine, err := svc.FunnelActorIDs(metricstest.As("demo"), r, journeys.ActorsRequest{Step: 1}, 100_000)
	require.NoError(t, err)
	assert.NotEqual(t, len(mine), len(other))
}
