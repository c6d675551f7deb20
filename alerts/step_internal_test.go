package alerts

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStepRepeatsABucket re-evaluates a bucket whose states were written
// but whose status was not (a crash in between): the second pass starts
// from the states before the bucket, so it finds the same transition and
// the same event id, and a later bucket starts from the new state.
func TestStepRepeatsABucket(t *testing.T) {
	rule := &Rule{ID: "r1", Tenant: "acme", Input: Input{Kind: KindThreshold, Comparator: Above, Threshold: 1, Grain: "DAY"}}
	b1 := time.Date(2026, 1, 9, 0, 0, 0, 0, time.UTC)
	b2 := b1.AddDate(0, 0, 1)
	obs := func(b time.Time, v float64, o Outcome) []observation {
		return []observation{{Key: "{}", Labels: map[string]string{}, Bucket: b, Value: &v, Outcome: o}}
	}
	byKey := func(list []*storedState) map[string]*storedState {
		out := map[string]*storedState{}
		for _, s := range list {
			out[s.Key] = s
		}
		return out
	}
	first, _, ev1 := step(rule, nil, obs(b1, 5, OutcomeBreach), nil, b1, b2)
	require.Len(t, ev1, 1)
	again, hist, ev2 := step(rule, byKey(first), obs(b1, 5, OutcomeBreach), nil, b1, b2)
	require.Len(t, ev2, 1, "the same bucket again finds the same transition")
	assert.Equal(t, ev1[0].ID, ev2[0].ID, "and the same idempotency key")
	assert.Equal(t, StateNormal, hist[0].From)
	assert.Equal(t, StateFiring, again[0].State)
	_, hist, ev3 := step(rule, byKey(again), obs(b2, 0, OutcomeOK), nil, b2, b2.AddDate(0, 0, 1))
	require.Len(t, ev3, 1)
	assert.Equal(t, EventResolved, ev3[0].Event)
	assert.Equal(t, b1, ev3[0].FiredBucket)
	assert.Equal(t, StateFiring, hist[0].From)
}
