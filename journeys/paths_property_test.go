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
