package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/queue"
	"github.com/learnhub/analytics-service/store"
)

// insightService answers insights on a real Asynq worker (the insights
// queue on the harness's redis-server).
func insightService(t *testing.T, db *store.DB, reg *metrics.Registry, q *metrics.Querier, coh *cohorts.Service, rdb redis.UniversalClient) *insights.Service {
	t.Helper()
	require.Equal(t, insights.QueueInsights, queue.QueueInsights, "the worker serves the queue the service enqueues on")
	require.Contains(t, queue.DefaultQueues(), queue.QueueInsights)
	tools := &insights.Tools{Registry: reg, Querier: q, Events: events.NewService(db), SQL: adhoc.NewService(db, adhoc.Config{}), Cohorts: coh}
	svc := insights.NewService(db, tools, queue.NewClient(rdb, queue.ClientConfig{}), insights.Config{WatchInterval: 50 * time.Millisecond})
	srv, err := queue.NewServer(rdb, queue.Config{Concurrency: 2})
	require.NoError(t, err)
	for _, r := range svc.Jobs() {
		srv.Handle(r.Kind, r.Handler)
	}
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(srv.Shutdown)
	return svc
}

const insightFields = `id status question steps { kind message } explanation interpretation { kind metricKey period { label } problems }
	grounding { status checked ungrounded } confidence { score level reasons } charts { type title series }
	evidence { id tool rows values } provenance { engine promptVersion toolCalls }`

// TestInsightsOverGraphQL asks over HTTP, follows the answer over a real
// WebSocket while a real Asynq worker answers it, and checks tenant
// isolation and roles on every insight query, mutation and subscription.
func TestInsightsOverGraphQL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	today := time.Now().UTC().Truncate(24 * time.Hour)
	seedDemo(t, h.db, demo.Options{Learners: 300, Days: 60, End: today})
	viewerA, viewerB := h.token("demo", auth.RoleViewer), h.token("acme-corp", auth.RoleViewer)

	res := h.query(viewerA, `mutation($q: String!) { askInsight(question: $q) { id status } }`,
		map[string]any{"q": "How many course completions in the last 30 days?"})
	require.Empty(t, res.Errors)
	var asked struct{ ID, Status string }
	require.NoError(t, json.Unmarshal(res.Data["askInsight"], &asked))
	assert.Equal(t, "QUEUED", asked.Status)

	// Follow it over a WebSocket until it is answered.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := h.dialWS(ctx, viewerA)
	require.NoError(t, err)
	defer c.CloseNow()
	nextOfType(ctx, t, c, "connection_ack")
	sub, _ := json.Marshal(map[string]any{"query": `subscription($id: ID!) { insightProgress(id: $id) { ` + insightFields + ` } }`,
		"variables": map[string]any{"id": asked.ID}})
	require.NoError(t, wsjson.Write(ctx, c, wsMessage{ID: "1", Type: "subscribe", Payload: sub}))
	type insight struct {
		ID, Status, Explanation string
		Steps                   []struct{ Kind, Message string }
		Grounding               struct {
			Status     string
			Checked    int
			Ungrounded []string
		}
		Confidence struct {
			Level   string
			Reasons []string
		}
		Charts     []struct{ Type string }
		Evidence   []struct{ ID, Tool string }
		Provenance struct{ Engine string }
	}
	var pushes []insight
	for {
		m := nextFor(ctx, t, c, "1", "next")
		var p struct {
			Data struct{ InsightProgress insight }
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p), string(m.Payload))
		pushes = append(pushes, p.Data.InsightProgress)
		if st := p.Data.InsightProgress.Status; st == "SUCCEEDED" || st == "FAILED" {
			break
		}
	}
	nextFor(ctx, t, c, "1", "complete")
	last := pushes[len(pushes)-1]
	require.Equal(t, "SUCCEEDED", last.Status, "%+v", last)
	assert.GreaterOrEqual(t, len(pushes), 2, "at least the queued state and the answer were pushed")
	var kinds []string
	for _, s := range last.Steps {
		kinds = append(kinds, s.Kind)
	}
	assert.Contains(t, kinds, "interpretation")
	assert.Contains(t, kinds, "tool_call")
	assert.Equal(t, "GROUNDED", last.Grounding.Status)
	assert.NotEmpty(t, last.Charts)
	assert.NotEmpty(t, last.Confidence.Reasons)
	assert.Equal(t, "builtin", last.Provenance.Engine)
	var n uint64
	require.NoError(t, h.db.QueryRow(ctx, []any{&n}, "SELECT count() FROM events FINAL WHERE tenant_id = 'demo' AND type = 'course.completed' AND occurred_at >= ? AND occurred_at < ?",
		today.AddDate(0, 0, -30), today))
	assert.Contains(t, last.Explanation, "**"+thousands(n)+"**", "the count of demo's rows only")

	t.Run("another tenant sees nothing of it", func(t *testing.T) {
		res := h.query(viewerB, `query($id: ID!) { insight(id: $id) { id } insights { nodes { id } } }`, map[string]any{"id": asked.ID})
		require.Empty(t, res.Errors)
		assert.JSONEq(t, `null`, string(res.Data["insight"]))
		assert.JSONEq(t, `{"nodes":[]}`, string(res.Data["insights"]))
		res = h.query(viewerB, `mutation($id: ID!) { rateInsight(id: $id, useful: true) { useful } }`, map[string]any{"id": asked.ID})
		assert.Equal(t, "NOT_FOUND", res.code())

		cb, err := h.dialWS(ctx, viewerB)
		require.NoError(t, err)
		defer cb.CloseNow()
		nextOfType(ctx, t, cb, "connection_ack")
		require.NoError(t, wsjson.Write(ctx, cb, wsMessage{ID: "b", Type: "subscribe", Payload: sub}))
		m := nextFor(ctx, t, cb, "b", "next")
		var p gqlResponse
		require.NoError(t, json.Unmarshal(m.Payload, &p))
		assert.Equal(t, "NOT_FOUND", p.code(), "no push of another tenant's insight: %s", m.Payload)
		assert.Nil(t, p.Data, "no data")
	})

	t.Run("roles, rating and the eval set", func(t *testing.T) {
		res := h.query("", `mutation { askInsight(question: "How many enrolments?") { id } }`, nil)
		assert.Equal(t, "UNAUTHENTICATED", res.code())
		res = h.query(viewerA, `query { insightEvalSet }`, nil)
		assert.Equal(t, "FORBIDDEN", res.code(), "the eval set is for admins")
		res = h.query(viewerA, `mutation { askInsight(question: "Why?", engine: GATEWAY) { id } }`, nil)
		assert.Equal(t, "UNAVAILABLE", res.code())
		require.NotEmpty(t, res.Errors)
		assert.Contains(t, res.Errors[0].Message, "AI gateway is not available")
		res = h.query(viewerA, `mutation { askInsight(question: "") { id } }`, nil)
		assert.Equal(t, "BAD_USER_INPUT", res.code())

		res = h.query(viewerA, `mutation($id: ID!) { rateInsight(id: $id, useful: true, comment: "clear") { useful ratedBy } }`, map[string]any{"id": asked.ID})
		require.Empty(t, res.Errors)
		res = h.query(h.token("demo", auth.RoleAdmin), `query { insightEvalSet }`, nil)
		require.Empty(t, res.Errors)
		var set string
		require.NoError(t, json.Unmarshal(res.Data["insightEvalSet"], &set))
		assert.Contains(t, set, asked.ID)
		assert.Contains(t, set, `"comment":"clear"`)
		res = h.query(h.token("acme-corp", auth.RoleAdmin), `query { insightEvalSet }`, nil)
		require.Empty(t, res.Errors)
		assert.JSONEq(t, `""`, string(res.Data["insightEvalSet"]))
	})
	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
}

// seedDemo inserts demo events straight into the events table.
func seedDemo(t *testing.T, db *store.DB, opts demo.Options) {
	t.Helper()
	evs := demo.Generate(opts)
	rows := make([][]any, len(evs))
	for i, e := range evs {
		props := map[string]any{}
		require.NoError(t, json.Unmarshal(e.Properties, &props))
		rows[i] = []any{e.TenantID, e.ID, e.Type, e.UserID, e.SessionID, e.OccurredAt, e.OccurredAt, props}
	}
	require.NoError(t, db.Insert(context.Background(), store.Insert{Table: "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}, Rows: rows}))
}

// thousands formats n as the analyst writes counts (1,234).
func thousands(n uint64) string {
	s := []byte{}
	d := []byte(json.Number(jsonInt(n)).String())
	for i, ch := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			s = append(s, ',')
		}
		s = append(s, ch)
	}
	return string(s)
}

func jsonInt(n uint64) string { b, _ := json.Marshal(n); return string(b) }
