package alerts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

func TestSimulate(t *testing.T) {
	h := newHarness(t)
	h.clock.Set(time.Date(2026, 2, 1, 5, 0, 0, 0, time.UTC))
	from, to := day(1), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	january := timerange.Spec{From: &from, To: &to}

	t.Run("threshold backtest over January", func(t *testing.T) {
		sim, err := h.svc.Simulate(as("acme"), thresholdRule(18), january)
		require.NoError(t, err)
		require.Len(t, sim.Entries, 31, "one total series, one evaluation per day")
		require.NotEmpty(t, sim.FiredBuckets)
		fired := map[time.Time]bool{}
		for _, b := range sim.FiredBuckets {
			fired[b] = true
		}
		for _, e := range sim.Entries {
			require.NotNil(t, e.Value)
			assert.Equal(t, *e.Value > 18, e.State == alerts.StateFiring, "bucket %s value %v state %s", e.Bucket, *e.Value, e.State)
			assert.Equal(t, fired[e.Bucket], e.State == alerts.StateFiring && e.From != alerts.StateFiring, e.Bucket)
		}
		again, err := h.svc.Simulate(as("acme"), thresholdRule(18), january)
		require.NoError(t, err)
		assert.Equal(t, sim.FiredBuckets, again.FiredBuckets, "deterministic")
		assert.Zero(t, h.msgs(t, alerts.SubjectTriggered), "a simulation publishes nothing")
	})

	t.Run("for holds a breach back", func(t *testing.T) {
		in := thresholdRule(-1)
		in.For = 48 * time.Hour
		sim, err := h.svc.Simulate(as("acme"), in, january)
		require.NoError(t, err)
		assert.Equal(t, []time.Time{day(3)}, sim.FiredBuckets, "pending on the 1st and 2nd, firing once held 48h")
		assert.Equal(t, alerts.StatePending, sim.Entries[0].State)
	})

	t.Run("anomaly backtest reads the monitor's scores", func(t *testing.T) {
		for d := 1; d <= 31; d++ {
			conf := 0.2
			if d == 20 {
				conf = 0.97
			}
			h.scores.Add("acme", "m1", alerts.AnomalyPoint{Bucket: day(d), Series: map[string]string{}, Value: 10, Expected: 30,
				Lower: 20, Upper: 40, Score: conf, Confidence: conf, Detector: "ensemble"})
		}
		in := alerts.Input{Name: "drop", Kind: alerts.KindAnomaly, MetricKey: "course_completions", MonitorID: "m1", Grain: "DAY", Threshold: 0.9}
		sim, err := h.svc.Simulate(as("acme"), in, january)
		require.NoError(t, err)
		assert.Equal(t, []time.Time{day(20)}, sim.FiredBuckets)
		require.Len(t, sim.Events, 2, "fired on the 20th, resolved on the 21st")
		assert.Equal(t, 0.97, *sim.Events[0].Confidence)
		assert.Equal(t, "ensemble", sim.Events[0].Detector)
		other, err := h.svc.Simulate(as("beta"), in, january)
		require.NoError(t, err)
		assert.Empty(t, other.FiredBuckets, "beta has no scores of acme's monitor")
	})

	t.Run("too many buckets is bad input", func(t *testing.T) {
		in := thresholdRule(1)
		in.Grain = "HOUR"
		long := from.AddDate(0, -2, 0)
		_, err := h.svc.Simulate(as("acme"), in, timerange.Spec{From: &long, To: &to})
		assert.Equal(t, "timeRange", field(err), "%v", err)
		assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
	})
}

// TestAnomalyRuleCoarserThanMonitor checks that a daily ANOMALY rule on an
// hourly monitor counts the most anomalous hour of each day.
func TestAnomalyRuleCoarserThanMonitor(t *testing.T) {
	h := newHarness(t)
	h.clock.Set(time.Date(2026, 1, 4, 1, 0, 0, 0, time.UTC))
	for hr := 0; hr < 72; hr++ {
		conf := 0.1
		if hr == 30 { // Jan 2, 06:00
			conf = 0.95
		}
		h.scores.Add("acme", "hourly", alerts.AnomalyPoint{Bucket: day(1).Add(time.Duration(hr) * time.Hour), Series: map[string]string{},
			Value: float64(hr), Confidence: conf, Score: conf, Detector: "seasonal"})
	}
	from, to := day(1), day(4)
	in := alerts.Input{Name: "hourly monitor", Kind: alerts.KindAnomaly, MetricKey: "active_learners_dau", MonitorID: "hourly", Grain: "DAY", Threshold: 0.9}
	sim, err := h.svc.Simulate(as("acme"), in, timerange.Spec{From: &from, To: &to})
	require.NoError(t, err)
	assert.Equal(t, []time.Time{day(2)}, sim.FiredBuckets)
	require.Len(t, sim.Entries, 3)
	assert.Equal(t, 30.0, *sim.Entries[1].Value, "the value of the worst hour")
}
