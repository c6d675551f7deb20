package llm_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/llm"
)

// model is a scripted OpenAI-compatible server: it answers with usage
// tokens (none when zero) or fails with status, and records, for each
// request, the tenant's count of the day that it saw while answering.
type model struct {
	usage  int
	status int
	seen   func() int64
	mu     sync.Mutex
	counts []int64
}

func (m *model) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	m.counts = append(m.counts, m.seen())
	m.mu.Unlock()
	if m.status != 0 {
		http.Error(w, `{"error":{"message":"upstream failed","type":"server_error"}}`, m.status)
		return
	}
	res := map[string]any{"id": "x", "object": "chat.completion", "model": "scripted",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": "ok"}}}}
	if m.usage > 0 {
		res["usage"] = map[string]any{"prompt_tokens": m.usage - 1, "completion_tokens": 1, "total_tokens": m.usage}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

func (m *model) requests() []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int64(nil), m.counts...)
}

func TestComplete(t *testing.T) {
	ctx := context.Background()
	counter := redisCounter(t)
	count := func(tenant string) int64 {
		n, err := counter.IncrBy(ctx, llm.BudgetKey(tenant, day), 0, time.Hour)
		require.NoError(t, err)
		return n
	}
	req := openai.ChatCompletionRequest{Model: "scripted", MaxCompletionTokens: 100,
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "How many?"}}}
	estimate := llm.EstimateTokens(req)
	require.Greater(t, estimate, int64(100), "the estimate holds the prompt and the completion bound")
	client := func(t *testing.T, m *model, tenant string, daily int) *llm.Client {
		m.seen = func() int64 { return count(tenant) }
		srv := httptest.NewServer(m)
		t.Cleanup(srv.Close)
		return llm.New(llm.Config{URL: srv.URL + "/v1/", APIKey: "k", DailyTokens: daily, Counter: counter,
			Now: func() time.Time { return day }, Timeout: 5 * time.Second})
	}

	t.Run("the estimate is reserved before the call and settled to the usage after", func(t *testing.T) {
		m := &model{usage: 42}
		c := client(t, m, "settle", 1000)
		res, err := c.Complete(ctx, "settle", req)
		require.NoError(t, err)
		assert.Equal(t, "ok", res.Choices[0].Message.Content)
		assert.Equal(t, []int64{estimate}, m.requests(), "the model was called with the estimate reserved")
		assert.Equal(t, int64(42), count("settle"))
	})
	t.Run("a call the budget cannot hold is refused without a request", func(t *testing.T) {
		m := &model{usage: 42}
		c := client(t, m, "refuse", int(estimate)-1)
		_, err := c.Complete(ctx, "refuse", req)
		assert.True(t, llm.Exhausted(err), "%v", err)
		assert.Empty(t, m.requests())
		assert.Equal(t, int64(0), count("refuse"))
		assert.Contains(t, c.FailureReason(ctx, err), "exhausted for this tenant")
	})
	t.Run("a failed call counts nothing and says why without the address", func(t *testing.T) {
		m := &model{status: http.StatusBadGateway}
		c := client(t, m, "fail", 1000)
		_, err := c.Complete(ctx, "fail", req)
		require.Error(t, err)
		assert.True(t, errs.Is(err, errs.KindUnavailable))
		assert.Equal(t, "the AI gateway did not answer", errs.PublicMessage(err))
		assert.Equal(t, "the AI gateway answered HTTP 502", c.FailureReason(ctx, err))
		assert.Len(t, m.requests(), 1)
		assert.Equal(t, int64(0), count("fail"))
	})
	t.Run("a call without reported usage keeps its reservation", func(t *testing.T) {
		m := &model{}
		c := client(t, m, "nousage", 1000)
		_, err := c.Complete(ctx, "nousage", req)
		require.NoError(t, err)
		assert.Equal(t, estimate, count("nousage"))
	})
	t.Run("no URL is no client", func(t *testing.T) {
		assert.Nil(t, llm.New(llm.Config{APIKey: "k"}))
	})
}
