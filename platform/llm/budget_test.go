package llm_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
	"github.com/learnhub/analytics-service/platform/llm"
)

var day = time.Date(2026, 6, 1, 15, 4, 0, 0, time.UTC)

// redisCounter is a counter on a real Redis started for the test.
func redisCounter(t *testing.T) *rediskv.Store {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = c.Close() })
	return rediskv.New(c)
}

func TestBudget(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		counter kv.Counter
	}{
		{"in process", nil},
		{"shared counter on Redis", redisCounter(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := day
			b := llm.NewBudget(llm.Config{Counter: tc.counter, DailyTokens: 1000, Now: func() time.Time { return clock },
				Op: "test.Budget", Instead: "engine BUILTIN"})
			// count is the tenant's count of the day as the counter has it.
			count := func(tenant string) int64 {
				if tc.counter == nil {
					return -1
				}
				n, err := tc.counter.IncrBy(ctx, llm.BudgetKey(tenant, clock), 0, time.Hour)
				require.NoError(t, err)
				return n
			}

			r1, err := b.Reserve(ctx, "acme", 600)
			require.NoError(t, err, "600 of 1000 fits")
			_, err = b.Reserve(ctx, "acme", 500)
			require.Error(t, err, "600 + 500 would exceed 1000")
			assert.True(t, llm.Exhausted(err))
			assert.True(t, errs.Is(err, errs.KindRateLimited))
			assert.Equal(t, "daily AI token budget of 1000 exhausted for this tenant (600 used or reserved today, "+
				"the next model call needs up to 500); resets at 00:00 UTC; ask with engine BUILTIN meanwhile", errs.PublicMessage(err))
			var e *errs.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "2026-06-02T00:00:00Z", e.Fields["resetsAt"])
			assert.Equal(t, int64(1000), e.Fields["budget"])
			if tc.counter != nil {
				assert.Equal(t, int64(600), count("acme"), "the refused reservation was taken back")
			}

			b.Settle(ctx, r1, 100) // the call used only 100
			if tc.counter != nil {
				assert.Equal(t, int64(100), count("acme"), "settled to the reported usage")
			}
			r2, err := b.Reserve(ctx, "acme", 900)
			require.NoError(t, err, "100 + 900 is exactly the budget")
			_, err = b.Reserve(ctx, "acme", 1)
			assert.True(t, llm.Exhausted(err), "a full budget refuses one more token: %v", err)

			_, err = b.Reserve(ctx, "other", 1000)
			assert.NoError(t, err, "another tenant has its own budget")

			b.Settle(ctx, r2, 0) // a failed call counts nothing
			_, err = b.Reserve(ctx, "acme", 900)
			assert.NoError(t, err, "a failed call's reservation is given back")

			clock = day.Add(12 * time.Hour) // 03:04 UTC the next day
			_, err = b.Reserve(ctx, "acme", 1000)
			assert.NoError(t, err, "the budget resets at 00:00 UTC")
			if tc.counter != nil {
				assert.Equal(t, "insights:ai-tokens:acme:2026-06-02", llm.BudgetKey("acme", clock))
				assert.Equal(t, int64(1000), count("acme"))
			}
		})
	}

	t.Run("a counter that cannot be reached refuses (fails closed)", func(t *testing.T) {
		c := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
		require.NoError(t, c.Close())
		b := llm.NewBudget(llm.Config{Counter: rediskv.New(c), DailyTokens: 1000, Instead: "engine BUILTIN"})
		_, err := b.Reserve(ctx, "acme", 1)
		require.Error(t, err)
		assert.True(t, errs.Is(err, errs.KindUnavailable))
		assert.ErrorIs(t, err, llm.ErrBudgetUnavailable)
		assert.False(t, llm.Exhausted(err))
		assert.Equal(t, "the AI token budget cannot be checked; try again or use engine BUILTIN", errs.PublicMessage(err))
	})
}

// TestBudgetConcurrentReservations: two budgets (two replicas) on one real
// Redis, many concurrent reservations of one tenant: what was granted
// never exceeds the budget, and the counter holds exactly what was granted.
func TestBudgetConcurrentReservations(t *testing.T) {
	ctx := context.Background()
	counter := redisCounter(t)
	const budget, each, callers = 10_000, 700, 64
	var replicas [2]*llm.Budget
	for i := range replicas {
		replicas[i] = llm.NewBudget(llm.Config{Counter: counter, DailyTokens: budget, Now: func() time.Time { return day }})
	}
	var granted, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			_, err := replicas[i%2].Reserve(ctx, "acme", each)
			switch {
			case err == nil:
				granted.Add(1)
			case llm.Exhausted(err):
				refused.Add(1)
			default:
				t.Errorf("reservation %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	n, err := counter.IncrBy(ctx, llm.BudgetKey("acme", day), 0, time.Hour)
	require.NoError(t, err)
	t.Logf("%d reservations of %d granted, %d refused; counter %d of %d", granted.Load(), each, refused.Load(), n, budget)
	assert.Equal(t, int64(callers), granted.Load()+refused.Load())
	assert.LessOrEqual(t, granted.Load()*each, int64(budget), "never more granted than the budget")
	assert.Equal(t, granted.Load()*each, n, "the counter holds exactly the granted reservations")
	assert.GreaterOrEqual(t, granted.Load(), int64(1), fmt.Sprintf("at least one of %d fits", budget/each))
}
