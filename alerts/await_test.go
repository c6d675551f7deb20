package alerts_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/alerts"
)

// An ANOMALY rule whose monitor has not been evaluated for the bucket yet
// (the monitors' DAY tick runs at 00:20 UTC, after the alerts' ticks of
// 00:00–00:15; a freshly loaded tenant waits for its catch-up) records
// nothing and is evaluated by a later tick once the scores are there —
// never NO_DATA for the day. A monitor that never comes gives NO_DATA half
// a bucket after the bucket's end, so the rule does not freeze.
func TestAnomalyRuleWaitsForItsMonitor(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	acme := as("acme")
	anomaly := func(name, monitor string) *alerts.Rule {
		r, err := h.svc.Create(acme, alerts.Input{Name: name, Kind: alerts.KindAnomaly, MetricKey: "new_learners",
			MonitorID: monitor, Grain: "DAY", Threshold: 0.5, Enabled: true})
		require.NoError(t, err)
		return r
	}
	late, never := anomaly("late monitor", "m-late"), anomaly("monitor that never comes", "m-never")
	h.scores.SetPending("m-late", true)
	h.scores.SetPending("m-never", true)
	jan9 := day(9) // the clock stands at Jan 10 00:05

	require.NoError(t, h.svc.Tick(ctx))
	assert.Empty(t, history(t, h, acme, late.ID, jan9), "monitor not evaluated yet: nothing recorded")
	assert.Empty(t, history(t, h, acme, never.ID, jan9))

	h.clock.Set(day(10).Add(25 * time.Minute)) // the monitors' tick has run
	h.scores.Add("acme", "m-late", alerts.AnomalyPoint{Bucket: jan9, Series: map[string]string{}, Value: 3, Expected: 9,
		Lower: 5, Upper: 13, Score: 0.9, Confidence: 0.9, Detector: "counts", Query: "{}"})
	h.scores.SetPending("m-late", false)
	require.NoError(t, h.svc.Tick(ctx))
	got := history(t, h, acme, late.ID, jan9)
	require.Len(t, got, 1)
	assert.Equal(t, alerts.StateFiring, got[0].State, "evaluated on the scores that arrived")
	assert.Empty(t, history(t, h, acme, never.ID, jan9), "still within half a day of the bucket's end")

	h.clock.Set(day(10).Add(12*time.Hour + time.Minute))
	require.NoError(t, h.svc.Tick(ctx))
	got = history(t, h, acme, never.ID, jan9)
	require.Len(t, got, 1)
	assert.Equal(t, alerts.StateNoData, got[0].State, "half a bucket late: the missing scores are NO_DATA")
	assert.Len(t, history(t, h, acme, late.ID, jan9), 1, "an evaluated bucket is not evaluated again")
}
