package alerts_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/reports"
)

// TestEvaluation runs the tick over two days of seeded data: a threshold
// rule split by course fires on every series with one grouped notification
// per channel, a rule whose monitor fails records ERROR without stopping
// the others, retries and a second tick send nothing twice, the next day
// resolves every series once, a rule still firing repeats its
// notification after its repeat interval, and every path stays in its
// tenant.
func TestEvaluation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	acme, beta := as("acme"), as("beta")
	const secret = "acme-secret-0123456789"
	_, err := h.svc.SetChannels(acme, []string{"admins@acme.test"}, h.hook.srv.URL+"/acme", secret)
	require.NoError(t, err)

	in := thresholdRule(0, "properties.course_id")
	in.NotifyAdmins = true
	ruleA, err := h.svc.Create(acme, in)
	require.NoError(t, err)
	h.scores.Break("broken")
	ruleB, err := h.svc.Create(acme, alerts.Input{Name: "broken monitor", Kind: alerts.KindAnomaly, MetricKey: "new_learners",
		MonitorID: "broken", Grain: "DAY", Threshold: 0.5, Enabled: true, NotifyAdmins: true})
	require.NoError(t, err)

	jan9 := day(9)
	require.NoError(t, h.svc.Tick(ctx))
	histA := history(t, h, acme, ruleA.ID, jan9)
	require.NotEmpty(t, histA)
	firing := 0
	for _, e := range histA {
		assert.Equal(t, alerts.StateNormal, e.From)
		require.NotNil(t, e.Value)
		if *e.Value > 0 {
			assert.Equal(t, alerts.StateFiring, e.State, "series %s value %v", e.SeriesKey, *e.Value)
			firing++
		}
	}
	require.GreaterOrEqual(t, firing, 2, "the seeded data has lesson completions in several courses on Jan 9")

	t.Run("a failing rule records ERROR and never stops the others", func(t *testing.T) {
		histB := history(t, h, acme, ruleB.ID, jan9)
		require.Len(t, histB, 1)
		assert.Equal(t, alerts.StateError, histB[0].State)
		assert.NotEmpty(t, histB[0].Error)
	})

	t.Run("one triggered event per firing series", func(t *testing.T) {
		assert.Equal(t, uint64(firing), h.msgs(t, alerts.SubjectTriggered))
	})

	notes := h.q.Take(alerts.KindNotify)
	t.Run("one notification per channel for all series", func(t *testing.T) {
		require.Len(t, notes, 2, "email and webhook of the admins, once for the whole group")
		assert.Equal(t, []error{nil, nil}, h.runNotifications(t, notes, 0))
		require.Len(t, h.mail.received(), 1)
		assert.Equal(t, []string{"admins@acme.test"}, h.mail.received()[0].To)
		assert.Contains(t, string(h.mail.received()[0].Data), "triggered")
		reqs := h.hook.received()
		require.Len(t, reqs, 1)
		require.NoError(t, reports.VerifySignature(secret, reqs[0].Header.Get(reports.HeaderSignature), reqs[0].Body, h.clock.Now(), time.Minute))
		assert.Equal(t, alerts.SubjectTriggered, reqs[0].Header.Get(reports.HeaderEvent))
		var n alerts.Notification
		require.NoError(t, json.Unmarshal(reqs[0].Body, &n))
		assert.Len(t, n.Events, firing)
		assert.Len(t, n.Firing, firing)
		ev := n.Events[0]
		assert.Equal(t, "acme", ev.Tenant)
		assert.Equal(t, ruleA.ID, ev.RuleID)
		assert.Equal(t, "lesson_completions", ev.MetricKey)
		assert.Equal(t, jan9, ev.Bucket)
		assert.Contains(t, ev.Query, `"metricKey":"lesson_completions"`)
		assert.Contains(t, ev.Series, "properties.course_id")
	})

	t.Run("retried notifications and a second tick send nothing twice", func(t *testing.T) {
		assert.Equal(t, []error{nil, nil}, h.runNotifications(t, notes, 1))
		require.NoError(t, h.svc.Tick(ctx))
		assert.Empty(t, h.q.Take(alerts.KindNotify))
		assert.Len(t, h.mail.received(), 1)
		assert.Len(t, h.hook.received(), 1)
		assert.Equal(t, uint64(firing), h.msgs(t, alerts.SubjectTriggered))
	})

	// Day two: acme's rule is raised out of reach (every series resolves),
	// beta gets a rule that always fires, and both tenants watch the feed.
	feed := alerts.NewFeed(h.bus.JetStream(), "ANALYTICS", nil)
	t.Cleanup(feed.Close)
	fctx, cancel := context.WithCancel(acme)
	t.Cleanup(cancel)
	acmeEvents, err := feed.Subscribe(fctx)
	require.NoError(t, err)
	bctx, bcancel := context.WithCancel(beta)
	t.Cleanup(bcancel)
	betaEvents, err := feed.Subscribe(bctx)
	require.NoError(t, err)
	in.Threshold = 1e9
	_, err = h.svc.Update(acme, ruleA.ID, ruleA.Version, in)
	require.NoError(t, err)
	always := thresholdRule(-1)
	always.Channels = []alerts.Channel{{Kind: alerts.ChannelEmail, To: []string{"ops@beta.test"}}}
	always.RepeatInterval = 24 * time.Hour
	ruleC, err := h.svc.Create(beta, always)
	require.NoError(t, err)

	h.clock.Set(day(11).Add(5 * time.Minute))
	require.NoError(t, h.svc.Tick(ctx))

	t.Run("every firing series resolves once", func(t *testing.T) {
		assert.Equal(t, uint64(firing), h.msgs(t, alerts.SubjectResolved))
		resolved := 0
		for _, e := range history(t, h, acme, ruleA.ID, day(10)) {
			if e.From == alerts.StateFiring {
				assert.Equal(t, alerts.StateNormal, e.State)
				resolved++
			}
		}
		assert.Equal(t, firing, resolved)
	})

	t.Run("the feed pushes each tenant its own events only", func(t *testing.T) {
		got := collect(t, betaEvents, 1)
		assert.Equal(t, "beta", got[0].Tenant)
		assert.Equal(t, ruleC.ID, got[0].RuleID)
		mine := collect(t, acmeEvents, firing)
		for _, e := range mine {
			assert.Equal(t, "acme", e.Tenant)
			assert.Equal(t, alerts.EventResolved, e.Event)
		}
		select {
		case e := <-acmeEvents:
			t.Fatalf("acme got an extra event %+v", e)
		default:
		}
	})

	t.Run("tenant B cannot read A's history", func(t *testing.T) {
		assert.Empty(t, history(t, h, beta, ruleA.ID, day(9)))
		all, err := h.svc.History(beta, alerts.HistoryFilter{From: day(1), To: day(31)})
		require.NoError(t, err)
		for _, e := range all {
			assert.Equal(t, "beta", e.Tenant)
		}
	})

	t.Run("resolution notifies, and a rule still firing repeats after its interval", func(t *testing.T) {
		notes := h.q.Take(alerts.KindNotify)
		require.Len(t, notes, 3, "acme's resolution to email and webhook, beta's trigger to its own email")
		assert.Equal(t, []error{nil, nil, nil}, h.runNotifications(t, notes, 0))
		require.Len(t, h.mail.received(), 3)
		h.clock.Set(day(12).Add(5 * time.Minute))
		require.NoError(t, h.svc.Tick(ctx))
		notes = h.q.Take(alerts.KindNotify)
		require.Len(t, notes, 1)
		assert.Equal(t, []error{nil}, h.runNotifications(t, notes, 0))
		last := h.mail.received()[3]
		assert.Equal(t, []string{"ops@beta.test"}, last.To)
		assert.Contains(t, string(last.Data), "1 firing")
		assert.Equal(t, uint64(1), h.msgs(t, alerts.SubjectTriggered)-uint64(firing), "the repeat publishes no second event")
	})
}

// history is the evaluations of one rule in one day bucket.
func history(t *testing.T, h *harness, ctx context.Context, ruleID string, bucket time.Time) []alerts.HistoryEntry {
	t.Helper()
	out, err := h.svc.History(ctx, alerts.HistoryFilter{RuleID: ruleID, From: bucket, To: bucket.Add(24 * time.Hour)})
	require.NoError(t, err)
	return out
}

// collect reads n events from ch, failing after waitFor.
func collect(t *testing.T, ch <-chan *alerts.EventPayload, n int) []*alerts.EventPayload {
	t.Helper()
	var out []*alerts.EventPayload
	deadline := time.After(waitFor)
	for len(out) < n {
		select {
		case e := <-ch:
			out = append(out, e)
		case <-deadline:
			t.Fatalf("got %d of %d events: %s", len(out), n, strings.Repeat(".", len(out)))
		}
	}
	return out
}

// TestRetryAfterPartialFailure fails the evaluation after its event was
// published (the notification cannot be enqueued): the retried tick
// publishes the same event again, which JetStream stores once, and the
// notification goes out once.
func TestRetryAfterPartialFailure(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	in := thresholdRule(-1)
	in.Channels = []alerts.Channel{{Kind: alerts.ChannelEmail, To: []string{"ops@acme.test"}}}
	rule, err := h.svc.Create(as("acme"), in)
	require.NoError(t, err)

	h.jobs.mu.Lock()
	h.jobs.fail = 1
	h.jobs.mu.Unlock()
	err = h.svc.Tick(ctx)
	require.Error(t, err, "the evaluation was not recorded")
	assert.Contains(t, err.Error(), "acme")
	assert.Equal(t, uint64(1), h.msgs(t, alerts.SubjectTriggered))
	assert.Empty(t, history(t, h, as("acme"), rule.ID, day(9)), "nothing recorded before the retry")

	require.NoError(t, h.svc.Tick(ctx))
	assert.Equal(t, uint64(1), h.msgs(t, alerts.SubjectTriggered), "the retry's publish is deduplicated")
	hist := history(t, h, as("acme"), rule.ID, day(9))
	require.Len(t, hist, 1)
	assert.Equal(t, alerts.StateFiring, hist[0].State)
	notes := h.q.Take(alerts.KindNotify)
	require.Len(t, notes, 1)
	assert.Equal(t, []error{nil}, h.runNotifications(t, notes, 0))
	assert.Len(t, h.mail.received(), 1)
}
