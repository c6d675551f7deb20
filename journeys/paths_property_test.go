package journeys_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// TestPathsMatchReference checks paths (start, end and session-start
// anchored, type filters, edge limits, session ids and inactivity gaps)
// against the reference evaluator on random event sets.
func TestPathsMatchReference(t *testing.T) {
	now := t0.Add(24 * time.Hour)
	db, svc := setup(t, now)
	rng := rand.New(rand.NewPCG(22, 3))
	nonempty := 0
	for i := range 30 {
		tenant := fmt.Sprintf("p%02d", i)
		evs := randomEvents(rng, 8, 20, t0, 7*time.Minute, 40)
		for j := range evs {
			if rng.IntN(3) == 0 { // some events carry a session id
				evs[j].Session = fmt.Sprintf("s%d", rng.IntN(3))
			}
		}
		insert(t, db, tenant, evs)
		req := journeys.PathsRequest{
			Steps:        2 + rng.IntN(4),
			TimeRange:    timerange.Spec{From: ptr(t0), To: ptr(t0.Add(4 * time.Hour))},
			MinEdgeUsers: rng.IntN(3),
			MaxEdges:     []int{0, 3, 8}[rng.IntN(3)],
		}
		switch m := randomMatcher(rng); rng.IntN(3) {
		case 0:
			req.StartEvent = &m
		case 1:
			req.EndEvent = &m
		}
		switch rng.IntN(3) {
		case 0:
			req.EventTypes = []string{"lesson.started", "lesson.completed", "quiz.submitted"}
		case 1:
			req.Exclude = []string{"user.login"}
		}
		want, err := journeys.PathsReference(req, now, evs)
		require.NoError(t, err)
		if len(want.Edges) > 1 {
			nonempty++
		}
		t.Run(tenant, func(t *testing.T) {
			got, err := svc.Paths(metricstest.As(tenant), req)
			require.NoError(t, err)
			assert.Equal(t, want, got, "request %s", describe(req))
		})
	}
	assert.Greater(t, nonempty, 20, "most cases must have several edges")
}

// TestPathsAfterAFunnelStepMatchReference checks paths restricted to the
// users of a funnel step (reached it, or dropped after it), anchored at
// that step or at a given start event, against the reference evaluator.
func TestPathsAfterAFunnelStepMatchReference(t *testing.T) {
	now := t0.Add(24 * time.Hour)
	db, svc := setup(t, now)
	rng := rand.New(rand.NewPCG(23, 4))
	nonempty := 0
	for i := range 20 {
		tenant := fmt.Sprintf("pf%02d", i)
		evs := randomEvents(rng, 10, 20, t0, 7*time.Minute, 40)
		insert(t, db, tenant, evs)
		steps := 2 + rng.IntN(2)
		f := journeys.FunnelRequest{ConversionWindow: time.Duration(20+rng.IntN(120)) * time.Minute}
		for range steps {
			f.Steps = append(f.Steps, journeys.Step{Matcher: randomMatcher(rng)})
		}
		after := &journeys.FunnelStepUsers{Funnel: f, Step: 1 + rng.IntN(steps-1), Dropped: rng.IntN(2) == 0}
		req := journeys.PathsRequest{Steps: 2 + rng.IntN(3), TimeRange: timerange.Spec{From: ptr(t0), To: ptr(t0.Add(4 * time.Hour))}, AfterFunnel: after}
		if rng.IntN(4) == 0 {
			m := randomMatcher(rng)
			req.StartEvent = &m
		}
		want, err := journeys.PathsReference(req, now, evs)
		require.NoError(t, err)
		if len(want.Edges) > 0 {
			nonempty++
		}
		t.Run(tenant, func(t *testing.T) {
			got, err := svc.Paths(metricstest.As(tenant), req)
			require.NoError(t, err)
			assert.Equal(t, want, got, "request %s after %+v", describe(req), *after)
		})
	}
	assert.Greater(t, nonempty, 10, "most cases must have edges")

	// Bad input names the field under afterFunnel.
	f := journeys.FunnelRequest{ConversionWindow: time.Hour, Steps: []journeys.Step{
		{Matcher: journeys.Matcher{EventType: "course.enrolled"}}, {Matcher: journeys.Matcher{EventType: "lesson.begun"}}}}
	for field, after := range map[string]*journeys.FunnelStepUsers{
		"afterFunnel.dropped":                   {Funnel: f, Step: 2, Dropped: true},
		"afterFunnel.step":                      {Funnel: f, Step: 3},
		"afterFunnel.funnel.steps[1].eventType": {Funnel: f, Step: 1},
		"afterFunnel.funnel.conversionWindow":   {Funnel: journeys.FunnelRequest{Steps: f.Steps}, Step: 1},
	} {
		_, err := svc.Paths(metricstest.As("pf00"), journeys.PathsRequest{TimeRange: timerange.Spec{From: ptr(t0), To: ptr(t0.Add(time.Hour))}, AfterFunnel: after})
		require.True(t, errs.Is(err, errs.KindInvalid), "%s: %v", field, err)
		assert.Equal(t, field, errs.PublicFields(err)["field"])
	}
}
