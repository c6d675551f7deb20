package monitors_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/metrics/metricstest"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
	"github.com/learnhub/analytics-service/platform/llm"
)

// oneBudget checks that the insights gateway and the monitors' reviewer,
// configured as cmd/analyticsd configures them (one Redis counter, one
// DailyTokens), spend one per-tenant daily budget, in both directions: an
// insight that used most of it leaves a review SKIPPED_BUDGET without a
// request, and a review that used most of it refuses the next insight with
// AI_TOKEN_BUDGET without a request.
func oneBudget(t *testing.T, e *reviewEnv, confirm string) {
	t.Helper()
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = c.Close() })
	counter := rediskv.New(c)
	const budget = 20_000
	count := func(tenant string) int64 {
		n, err := counter.IncrBy(ctx, llm.BudgetKey(tenant, now), 0, time.Hour)
		require.NoError(t, err)
		return n
	}
	// The gateway's model answers in plain text and reports usage tokens.
	gateway := func(usage int) (*insights.Gateway, *atomic.Int32) {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			calls.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"id": "x", "object": "chat.completion", "model": "scripted",
				"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": "No idea."}}},
				"usage":   map[string]any{"prompt_tokens": usage - 10, "completion_tokens": 10, "total_tokens": usage}})
		}))
		t.Cleanup(srv.Close)
		return insights.NewGateway(insights.GatewayConfig{URL: srv.URL + "/v1", Model: "scripted-model", MaxSteps: 1, MaxTokens: 64,
			DailyTokens: budget, Budget: counter, Now: func() time.Time { return now }}), &calls
	}
	tools := &insights.Tools{Registry: e.reg, Querier: e.q, Events: events.NewService(e.db), Now: func() time.Time { return now }}

	t.Run("an insight's tokens leave a review of the tenant without budget", func(t *testing.T) {
		e.tenant(t, "oneb-a", "Widgets.")
		gw, calls := gateway(budget - 1000)
		_, _ = gw.Answer(metricstest.As("oneb-a"), tools, "How many widgets?", insights.Context{}, nil) // one plain answer; its outcome is not the point
		require.Equal(t, int32(1), calls.Load())
		require.Equal(t, int64(budget-1000), count("oneb-a"), "the insight's usage counts on the tenant's key")

		m := &model{reply: confirm}
		svc := e.reviewer(t, m, monitors.ReviewerConfig{DailyTokens: budget, Budget: counter})
		_, scores := watch(t, svc, "oneb-a", monitors.ReviewExplain)
		s := spike(t, scores)
		require.NotNil(t, s.Review)
		assert.Equal(t, monitors.ReviewSkippedBudget, s.Review.Status)
		assert.Contains(t, s.Review.Reason, "budget (20000) is used up")
		assert.Empty(t, m.requests(), "the review was not asked: 1000 tokens cannot hold it")
		assert.Equal(t, int64(budget-1000), count("oneb-a"), "the refused reservation was taken back")
	})

	t.Run("a review's tokens refuse the tenant's next insight", func(t *testing.T) {
		e.tenant(t, "oneb-b", "Widgets.")
		m := &model{reply: confirm, tokens: budget - 1000}
		svc := e.reviewer(t, m, monitors.ReviewerConfig{DailyTokens: budget, Budget: counter})
		_, scores := watch(t, svc, "oneb-b", monitors.ReviewExplain)
		s := spike(t, scores)
		require.NotNil(t, s.Review)
		require.Equal(t, monitors.ReviewReviewed, s.Review.Status)
		require.Len(t, m.requests(), 1)
		require.Equal(t, int64(budget-1000), count("oneb-b"), "the review's usage counts on the tenant's key")

		gw, calls := gateway(100)
		_, err := gw.Answer(metricstest.As("oneb-b"), tools, "How many widgets?", insights.Context{}, nil)
		require.Error(t, err)
		assert.True(t, insights.BudgetExhausted(err), "%v", err)
		assert.Contains(t, errs.PublicMessage(err), "daily AI token budget of 20000 exhausted for this tenant (19000 used or reserved today")
		assert.Equal(t, int32(0), calls.Load(), "the insight was not asked")

		_, err = gw.Answer(metricstest.As("oneb-a2"), tools, "How many widgets?", insights.Context{}, nil)
		assert.False(t, insights.BudgetExhausted(err), "another tenant's budget is its own: %v", err)
		assert.Equal(t, int32(1), calls.Load())
	})
}
