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

// retentionCases is how many random event sets the retention property test runs.
const retentionCases = 60

// TestRetentionMatchesReference is the retention property test: random
// triangles (every period, mode, reference, cumulative or not, zones with
// odd offsets, breakdowns) over random event sets on an hourly grid (many
// equal timestamps, repeated starts and returns, events just before the
// range) agree with the reference evaluator.
func TestRetentionMatchesReference(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	now := start.Add(200 * 24 * time.Hour)
	db, svc := setup(t, now)
	rng := rand.New(rand.NewPCG(22, 2))
	zones := []string{"", "Europe/Berlin", "America/New_York", "Asia/Kolkata"}
	retained := 0
	for i := range retentionCases {
		tenant := fmt.Sprintf("r%02d", i)
		evs := randomEvents(rng, 12, 60, start, 6*time.Hour, 4*90)
		insert(t, db, tenant, evs)
		req := journeys.RetentionRequest{
			StartEvent:  randomMatcher(rng),
			ReturnEvent: randomMatcher(rng),
			Period:      []timerange.Grain{timerange.GrainDay, timerange.GrainWeek, timerange.GrainWeek, timerange.GrainMonth}[rng.IntN(4)],
			Periods:     1 + rng.IntN(8),
			Mode:        []journeys.RetentionMode{journeys.FirstTime, journeys.Recurring}[rng.IntN(2)],
			Reference:   []journeys.RetentionBase{journeys.BaseInitial, journeys.BasePrevious}[rng.IntN(2)],
			Cumulative:  rng.IntN(3) == 0,
			TimeZone:    zones[rng.IntN(len(zones))],
			TimeRange:   timerange.Spec{From: ptr(start.Add(time.Duration(rng.IntN(72)) * time.Hour)), To: ptr(start.Add(time.Duration(20+rng.IntN(60)) * 24 * time.Hour))},
		}
		if req.Period == timerange.GrainDay {
			req.TimeRange.To = ptr(req.TimeRange.From.Add(time.Duration(3+rng.IntN(12)) * 24 * time.Hour))
		}
		if rng.IntN(2) == 0 {
			req.ReturnEvent = req.StartEvent
		}
		if rng.IntN(2) == 0 {
			req.Breakdown = &journeys.RetentionBreakdown{Property: "course", TopN: 1 + rng.IntN(3)}
		}
		want, err := journeys.RetentionReference(req, now, evs)
		require.NoError(t, err)
		if splits(want.Cohorts) {
			retained++
		}
		t.Run(tenant, func(t *testing.T) {
			got, err := svc.Retention(metricstest.As(tenant), req)
			require.NoError(t, err)
			assert.Equal(t, want, got, "request %s", describe(req))
		})
	}
	assert.Greater(t, retained, retentionCases/2, "most triangles must keep some users and lose others, or the comparison proves little")
}

// splits reports whether some later cell keeps some of its cohort and loses others.
func splits(rows []journeys.RetentionCohort) bool {
	for _, c := range rows {
		for _, cell := range c.Cells[1:] {
			if cell.Users > 0 && cell.Users < c.Size {
				return true
			}
		}
	}
	return false
}
