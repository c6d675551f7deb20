package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/bus/bustest"
)

// TestLiveAlertInChromium starts analyticsd on a NATS server of the test's
// own, so the test reads analytics.alert.triggered.v1 as any consumer
// would, and runs web/e2e/alerts.mjs: a rule created during the test fires
// on the server's next alerts tick (every minute here) and its event appears in the open
// Monitors page. The event shown must be the one on NATS (same id, which
// ends its Nats-Msg-Id), with the same rule and value. The server's AI
// gateway is a scripted model that reviews every flagged bucket: the page
// shows its verdict and explanation beside the bucket and under the event
// of an ANOMALY rule on that monitor; a rule not evaluated yet says when it
// is due.
func TestLiveAlertInChromium(t *testing.T) {
	cluster := bustest.StartCluster(t, 3)
	nc, err := nats.Connect(cluster.URL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	sub, err := nc.SubscribeSync("analytics.alert.triggered.v1")
	require.NoError(t, err)

	model := scriptedReviewer(t)
	// Alert rules are evaluated every minute instead of every five, so the
	// rule fires within about a minute of its creation.
	srv := startSeededServer(t, "300", "ANALYTICS_NATS_URL="+cluster.URL(), "ANALYTICS_ALERTS_CRON=* * * * *",
		"ANALYTICS_AI_URL="+model+"/v1", "ANALYTICS_AI_MODEL=scripted-reviewer")
	results := filepath.Join(t.TempDir(), "results.json")
	ctx, cancel := context.WithTimeout(context.Background(), 14*time.Minute)
	defer cancel()
	out := runE2E(ctx, t, "e2e/alerts.mjs", append(srv.env(), "RESULTS_FILE="+results, "SCREENSHOT_DIR="+os.Getenv("CONSOLE_SCREENSHOT_DIR")))
	assert.Regexp(t, `(?m)^\d+ passed, 0 failed$`, out)
	assert.NotContains(t, out, "not ok")

	var shown struct {
		ID, RuleID, RuleName, Event, Value string
		WaitedMs                           int
	}
	raw, err := os.ReadFile(results)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &shown))
	var onNATS []string
	for {
		msg, err := sub.NextMsg(5 * time.Second)
		require.NoError(t, err, "the event shown (%s) never came on NATS; saw %v", shown.ID, onNATS)
		var ev struct {
			ID       string   `json:"id"`
			Event    string   `json:"event"`
			RuleID   string   `json:"rule_id"`
			RuleName string   `json:"rule_name"`
			Value    *float64 `json:"value"`
		}
		require.NoError(t, json.Unmarshal(msg.Data, &ev))
		onNATS = append(onNATS, ev.ID)
		if ev.ID != shown.ID {
			continue
		}
		assert.True(t, strings.HasSuffix(msg.Header.Get(nats.MsgIdHdr), "/"+ev.ID), "Nats-Msg-Id %q", msg.Header.Get(nats.MsgIdHdr))
		assert.Equal(t, shown.RuleID, ev.RuleID)
		assert.Equal(t, shown.RuleName, ev.RuleName)
		assert.Contains(t, shown.Event, ev.Event)
		require.NotNil(t, ev.Value)
		v, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(shown.Value), ",", ""), 64)
		require.NoError(t, err, "value shown %q", shown.Value)
		assert.InDelta(t, *ev.Value, v, 0.05*max(1, *ev.Value), "value shown %q, on NATS %v", shown.Value, *ev.Value)
		t.Logf("event %s (%s, value %v) on NATS and in the page %d ms after the rule was created", ev.RuleName, shown.ID, *ev.Value, shown.WaitedMs)
		return
	}
}

// scriptedReviewer is an OpenAI-compatible Chat Completions server that
// answers every request with the monitors' review tool call (verdict
// CONFIRM); it returns its base URL.
func scriptedReviewer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		args := `{"explanation":"Completions jumped far above the expected band.","verdict":"CONFIRM","reason":"far above the band"}`
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "x", "object": "chat.completion", "model": "scripted-reviewer",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "tool_calls", "message": map[string]any{"role": "assistant", "content": "",
				"tool_calls": []any{map[string]any{"id": "c1", "type": "function", "function": map[string]any{"name": "review", "arguments": args}}}}}},
			"usage": map[string]any{"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
