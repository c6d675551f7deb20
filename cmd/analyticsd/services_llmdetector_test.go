package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

// TestMonitorReviewerWiring starts the service with ANALYTICS_AI_URL on a
// scripted model: a RERANK monitor is accepted, its evaluation asks the
// model once about the flagged spike, and the tokens count in Redis on
// the insights gateway's per-tenant daily key.
func TestMonitorReviewerWiring(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole service")
	}
	var calls atomic.Int32
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		args := `{"explanation":"Completions quadrupled.","verdict":"CONFIRM","reason":"far above the band"}`
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "x", "object": "chat.completion", "model": "scripted",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "tool_calls", "message": map[string]any{"role": "assistant", "content": "",
				"tool_calls": []any{map[string]any{"id": "c1", "type": "function", "function": map[string]any{"name": "review", "arguments": args}}}}}},
			"usage": map[string]any{"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}})
	}))
	t.Cleanup(model.Close)
	db := store.New(storetest.EmbeddedBackend(t, chembedded.Options{}), store.Options{Mode: "embedded"})
	r := startReplica(t, testConfig(t, map[string]string{"ANALYTICS_AI_URL": model.URL + "/v1", "ANALYTICS_AI_MODEL": "scripted-model"}), appDeps{db: db})

	// About 54 completions a day for 90 days, 200 yesterday.
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var rows [][]any
	for d := 1; d <= 90; d++ {
		n := 50 + (d*7)%9
		if d == 1 {
			n = 200
		}
		for i := range n {
			at := today.AddDate(0, 0, -d).Add(time.Duration(i) * time.Minute)
			rows = append(rows, []any{"tenant-w", fmt.Sprintf("w-%d-%d", d, i), "course.completed", "u", "s", at, at, map[string]any{}})
		}
	}
	require.NoError(t, db.Insert(context.Background(), store.Insert{Table: "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}, Rows: rows}))

	var out struct {
		CreateMonitor struct{ ID, LlmReview string }
	}
	r.gql(t, r.token(t, "tenant-w", auth.RoleAdmin),
		`mutation { createMonitor(input: {metricKey: "course_completions", grain: DAY, llmReview: RERANK}) { id llmReview } }`, nil, &out)
	assert.Equal(t, "RERANK", out.CreateMonitor.LlmReview)

	// The replica's workers may evaluate the new monitor at the same time
	// (the catch-up enqueued at start); whichever evaluation claims the
	// flagged bucket first asks the model, the other skips it, so the model
	// is asked exactly once and the review is stored once.
	st, err := r.app.svc.monitors.Evaluate(context.Background(), "tenant-w", monitors.GrainDay, time.Now())
	require.NoError(t, err)
	assert.LessOrEqual(t, st.Reviews, 1)
	var reviewed uint64
	require.Eventually(t, func() bool {
		err := db.QueryRow(context.Background(), []any{&reviewed},
			"SELECT count() FROM monitor_reviews FINAL WHERE tenant_id = 'tenant-w' AND status = 'REVIEWED'")
		return err == nil && reviewed >= 1
	}, 30*time.Second, 100*time.Millisecond, "the flagged bucket's review is stored")
	assert.Equal(t, uint64(1), reviewed)
	assert.Equal(t, int32(1), calls.Load(), "one model call for the one flagged bucket, however many evaluations ran")
	used, err := r.app.kv.IncrBy(context.Background(), monitors.BudgetKeyPrefix+"tenant-w:"+time.Now().UTC().Format(time.DateOnly), 0, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, int64(110), used, "the review's tokens count on the tenant's shared AI budget")
}
