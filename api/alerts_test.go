package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/jobs/jobstest"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/store"
)

// alertServices are the harness's alert service (no mailer or webhooks)
// and in-app feed.
func alertServices(t *testing.T, db *store.DB, b *bus.Bus, q *metrics.Querier) (*alerts.Service, *alerts.Feed) {
	t.Helper()
	svc, err := alerts.NewService(alerts.Deps{DB: db, Jobs: &jobstest.Recorder{}, Bus: b, Metrics: q}, alerts.Config{})
	require.NoError(t, err)
	feed := alerts.NewFeed(b.JetStream(), b.Stream(), nil)
	t.Cleanup(feed.Close)
	return svc, feed
}

// TestAlertsThroughGraphQL defines rules of two tenants over GraphQL, runs
// the evaluation tick, and checks that each tenant's viewer gets its own
// alert event over a real graphql-transport-ws socket and reads only its
// own rules and history.
func TestAlertsThroughGraphQL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	create := `mutation($in: AlertRuleInput!) { createAlertRule(input: $in) { id kind comparator grain for noData onError isDefault version notifyAdmins } }`
	always := func(name string) map[string]any {
		return map[string]any{"in": map[string]any{"name": name, "kind": "THRESHOLD", "metricKey": "lesson_completions", "grain": "DAY",
			"comparator": "ABOVE", "threshold": -1, "for": "0s"}}
	}

	res := h.query(h.token("tenant-a", auth.RoleViewer), create, always("a"))
	assert.Equal(t, "FORBIDDEN", res.code(), "viewers read rules; admins define them")

	bad := always("bad")
	bad["in"].(map[string]any)["for"] = "soon"
	res = h.query(h.token("tenant-a", auth.RoleAdmin), create, bad)
	require.Equal(t, "BAD_USER_INPUT", res.code(), "%+v", res.Errors)
	assert.Equal(t, "input.for", res.Errors[0].Extensions["field"])

	ruleID := map[string]string{}
	for _, tenant := range []string{"tenant-a", "tenant-b"} {
		res = h.query(h.token(tenant, auth.RoleAdmin), create, always("always "+tenant))
		require.Empty(t, res.Errors, "%+v", res.Errors)
		var rule struct {
			ID      string `json:"id"`
			For     string `json:"for"`
			NoData  string `json:"noData"`
			Version int    `json:"version"`
		}
		require.NoError(t, json.Unmarshal(res.Data["createAlertRule"], &rule))
		assert.Equal(t, "0s", rule.For)
		assert.Equal(t, "NO_DATA", rule.NoData)
		assert.Positive(t, rule.Version)
		ruleID[tenant] = rule.ID
	}

	sockets := map[string]*websocket.Conn{}
	for _, tenant := range []string{"tenant-a", "tenant-b"} {
		c, err := h.dialWS(ctx, h.token(tenant, auth.RoleViewer))
		require.NoError(t, err)
		defer c.CloseNow()
		nextOfType(ctx, t, c, "connection_ack")
		sub, _ := json.Marshal(map[string]any{"query": `subscription { alertEvents { event ruleId metricKey state previousState value threshold query series } }`})
		require.NoError(t, wsjson.Write(ctx, c, wsMessage{ID: "1", Type: "subscribe", Payload: sub}))
		sockets[tenant] = c
	}
	// Both subscriptions are live once the feed counts them.
	require.Eventually(t, func() bool { return h.alertFeed.Subscribers() == 2 }, 10*time.Second, 10*time.Millisecond)

	worker, err := alerts.NewService(alerts.Deps{DB: h.db, Jobs: &jobstest.Recorder{}, Bus: h.bus,
		Metrics: metrics.NewQuerier(h.db, metrics.NewRegistry(h.db, metrics.Config{}), metrics.QuerierConfig{})}, alerts.Config{})
	require.NoError(t, err)
	require.NoError(t, worker.Tick(ctx))

	for tenant, c := range sockets {
		m := nextFor(ctx, t, c, "1", "next")
		var got struct {
			Data struct {
				AlertEvents struct {
					Event  string `json:"event"`
					RuleID string `json:"ruleId"`
					State  string `json:"state"`
					Query  string `json:"query"`
				} `json:"alertEvents"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &got), string(m.Payload))
		assert.Equal(t, ruleID[tenant], got.Data.AlertEvents.RuleID, "%s gets its own rule's event", tenant)
		assert.Equal(t, "TRIGGERED", got.Data.AlertEvents.Event)
		assert.Equal(t, "FIRING", got.Data.AlertEvents.State)
		assert.Contains(t, got.Data.AlertEvents.Query, "lesson_completions")
	}

	// Reads stay in the tenant.
	res = h.query(h.token("tenant-b", auth.RoleViewer), `query($id: ID!) { alertRule(id: $id) { id } }`, map[string]any{"id": ruleID["tenant-a"]})
	require.Empty(t, res.Errors)
	assert.JSONEq(t, `null`, string(res.Data["alertRule"]))
	res = h.query(h.token("tenant-b", auth.RoleViewer), `{ alertRules { id isDefault } }`, nil)
	require.Empty(t, res.Errors)
	assert.NotContains(t, string(res.Data["alertRules"]), ruleID["tenant-a"])
	assert.Contains(t, string(res.Data["alertRules"]), ruleID["tenant-b"])
	assert.Contains(t, string(res.Data["alertRules"]), `"id":"default:active_learners_dau","isDefault":true`)
	history := `query($id: ID) { alertHistory(ruleId: $id, timeRange: {last: "7d"}) { ruleId state fromState value } }`
	res = h.query(h.token("tenant-b", auth.RoleViewer), history, map[string]any{"id": ruleID["tenant-a"]})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `[]`, string(res.Data["alertHistory"]))
	res = h.query(h.token("tenant-a", auth.RoleViewer), history, map[string]any{"id": ruleID["tenant-a"]})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `[{"ruleId":"`+ruleID["tenant-a"]+`","state":"FIRING","fromState":"NORMAL","value":0}]`, string(res.Data["alertHistory"]))

	res = h.query(h.token("tenant-a", auth.RoleViewer), `query($in: AlertRuleInput!) { simulateAlertRule(input: $in, timeRange: {last: "5d"}) { firedBuckets entries { state } } }`,
		always("sim"))
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var sim struct {
		FiredBuckets []string `json:"firedBuckets"`
		Entries      []struct {
			State string `json:"state"`
		} `json:"entries"`
	}
	require.NoError(t, json.Unmarshal(res.Data["simulateAlertRule"], &sim))
	assert.Len(t, sim.FiredBuckets, 1, "an always-breaching rule fires once and stays FIRING")
	assert.NotEmpty(t, sim.Entries)
}
