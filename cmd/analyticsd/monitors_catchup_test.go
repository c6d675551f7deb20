package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

// A fresh service (serve, work and ingest) loads demo data through the
// firehose, as `make run` does on first start: within a bounded time the
// key-metric monitors have scores for yesterday and the default anomaly
// rules evaluated on them are NORMAL or FIRING — not NO_DATA until the
// 00:20 UTC tick (the catch-up after the seed, and the rules waiting for
// their monitor's evaluation).
func TestFreshServiceScoresKeyMonitorsAfterTheDemoSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("loads demo data through a whole service")
	}
	db := store.New(storetest.EmbeddedBackend(t, chembedded.Options{}), store.Options{Mode: "embedded"})
	r := startReplica(t, testConfig(t, nil), appDeps{db: db})
	ctx := t.Context()

	n, err := demo.Publish(ctx, r.app.bus.JetStream(), demo.Options{Learners: 600, Days: 120}, nil)
	require.NoError(t, err)
	started := time.Now()
	r.app.rescoreAfterSeed(ctx, n) // what seedOnFirstStart runs after publishing
	loaded := time.Since(started)

	from, to := alerts.LatestBucket("DAY", time.Now())
	deadline := time.Now().Add(3 * time.Minute)
	pollUntil(t, deadline, "key monitor scored 3 minutes after the load", func() bool {
		done, err := r.app.svc.monitors.Evaluated(ctx, demo.AnomalyTenant, "key:course_completions", to)
		require.NoError(t, err)
		return done
	})
	t.Logf("%d events loaded in %s; key monitors scored %s after the load", n, loaded.Round(time.Second), (time.Since(started) - loaded).Round(time.Second))

	// The next alerts tick (every 5 minutes; the one of this minute may
	// have run while the monitors were being scored, and left the rules
	// waiting).
	_, err = r.app.sched.Trigger(ctx, alerts.KindTick, time.Now().Add(5*time.Minute))
	require.NoError(t, err)
	tok := r.token(t, demo.AnomalyTenant, auth.RoleViewer)
	type entry struct {
		RuleID string    `json:"ruleId"`
		Bucket time.Time `json:"bucket"`
		State  string    `json:"state"`
	}
	var got []entry
	pollUntil(t, deadline, "default rules evaluated", func() bool {
		var out struct {
			AlertHistory []entry `json:"alertHistory"`
		}
		r.gql(t, tok, `query($r: TimeRange!) { alertHistory(timeRange: $r) { ruleId bucket state } }`,
			map[string]any{"r": map[string]any{"from": from, "to": to}}, &out)
		got = out.AlertHistory
		return len(got) > 0
	})
	states := map[string]string{}
	for _, e := range got {
		states[e.RuleID] = e.State
	}
	t.Logf("default rules on %s: %v", from.Format("2006-01-02"), states)
	require.Len(t, states, 7, "every default rule (one per key metric) evaluated on yesterday")
	for id, st := range states {
		assert.Contains(t, []string{"NORMAL", "FIRING"}, st, "%s", id)
	}
}

// pollUntil calls cond every half second until it holds, failing with what
// past deadline.
func pollUntil(t *testing.T, deadline time.Time, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		require.True(t, time.Now().Before(deadline), "timed out waiting: %s", what)
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
