package api_test

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
)

// TestMonitorLLMReviewOverGraphQL: llmReview is refused without the AI
// gateway, and with it an EXPLAIN monitor's flagged bucket shows the
// model's explanation in metricAnomalies to its own tenant only.
func TestMonitorLLMReviewOverGraphQL(t *testing.T) {
	create := `mutation($in: MonitorInput!) { createMonitor(input: $in) { id llmReview } }`
	in := map[string]any{"metricKey": "course_completions", "grain": "DAY", "llmReview": "EXPLAIN"}

	off := newHarness(t, harnessOpts{})
	code, field := errorOf(off.query(off.token("tenant-a", auth.RoleAdmin), create, map[string]any{"in": in}))
	assert.Equal(t, [2]string{"BAD_USER_INPUT", "llmReview"}, [2]string{code, field}, "the AI gateway is not configured")

	var calls atomic.Int32
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		args := `{"explanation":"Completions jumped fivefold yesterday.","verdict":"CONFIRM","reason":"far above the band"}`
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "x", "object": "chat.completion", "model": "scripted",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "tool_calls", "message": map[string]any{"role": "assistant", "content": "",
				"tool_calls": []any{map[string]any{"id": "c1", "type": "function", "function": map[string]any{"name": "review", "arguments": args}}}}}},
			"usage": map[string]any{"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}})
	}))
	t.Cleanup(model.Close)
	h := newHarness(t, harnessOpts{reviewer: monitors.NewReviewer(monitors.ReviewerConfig{URL: model.URL + "/v1", Model: "scripted-model"})})
	// About 54 completions a day for 90 days, 200 yesterday.
	yesterday := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	var evs []event
	for d := 1; d <= 90; d++ {
		n := 50 + (d*7)%9
		if d == 1 {
			n = 200
		}
		for i := range n {
			evs = append(evs, event{id: fmt.Sprintf("c-%d-%d", d, i), typ: "course.completed", at: yesterday.AddDate(0, 0, 1-d).Add(time.Duration(i) * time.Minute)})
		}
	}
	h.insertEvents("tenant-a", evs...)

	res := h.query(h.token("tenant-a", auth.RoleAdmin), create, map[string]any{"in": in})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var m struct{ ID, LlmReview string }
	require.NoError(t, json.Unmarshal(res.Data["createMonitor"], &m))
	assert.Equal(t, "EXPLAIN", m.LlmReview)
	_, err := h.monitors.Evaluate(context.Background(), "tenant-a", monitors.GrainDay, time.Now().UTC())
	require.NoError(t, err)
	require.Equal(t, int32(1), calls.Load(), "one flagged bucket in the tick window, one model call")

	anomalies := `query($in: MetricAnomaliesInput!) { metricAnomalies(input: $in) { points { bucket anomalous
		review { mode status verdict explanation model reviewedConfidence anomalous } } } }`
	vars := map[string]any{"in": map[string]any{"monitorId": m.ID, "timeRange": map[string]any{"last": "3d"}}}
	res = h.query(h.token("tenant-a", auth.RoleViewer), anomalies, vars)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var series []struct {
		Points []struct {
			Bucket    time.Time
			Anomalous bool
			Review    json.RawMessage
		}
	}
	require.NoError(t, json.Unmarshal(res.Data["metricAnomalies"], &series))
	require.Len(t, series, 1)
	var got json.RawMessage
	for _, p := range series[0].Points {
		if p.Bucket.Equal(yesterday) {
			require.True(t, p.Anomalous, "the statistics flag the spike")
			got = p.Review
		} else {
			assert.Equal(t, "null", string(p.Review), "bucket %s has no review", p.Bucket)
		}
	}
	assert.JSONEq(t, `{"mode":"EXPLAIN","status":"REVIEWED","verdict":"CONFIRM","explanation":"Completions jumped fivefold yesterday.",
		"model":"scripted-model","reviewedConfidence":null,"anomalous":true}`, string(got))

	code, _ = errorOf(h.query(h.token("tenant-b", auth.RoleViewer), anomalies, vars))
	assert.Equal(t, "NOT_FOUND", code, "tenant B cannot read A's reviews")
}
