package alerts_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/store"
)

// BenchmarkTick measures one evaluation tick of 20 daily threshold rules of
// five series each (100 series) on the embedded engine: each iteration is
// a new day, so every rule is read, stepped and recorded.
func BenchmarkTick(b *testing.B) {
	var mu sync.Mutex
	var engine time.Duration
	statements := 0
	h := newHarness(b, func(o *store.Options) {
		o.Observe = func(_ string, d time.Duration, _ error) {
			mu.Lock()
			engine += d
			statements++
			mu.Unlock()
		}
	})
	for i := 0; i < 20; i++ {
		_, err := h.svc.Create(as("acme"), thresholdRule(float64(i), "properties.course_id"))
		require.NoError(b, err)
	}
	start := day(2)
	mu.Lock()
	engine, statements = 0, 0
	mu.Unlock()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.clock.Set(start.Add(time.Duration(i)*24*time.Hour + 5*time.Minute))
		require.NoError(b, h.svc.Tick(context.Background()))
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/tick")
	b.ReportMetric(float64(engine.Milliseconds())/float64(b.N), "engine-ms/tick")
	b.ReportMetric(float64(statements)/float64(b.N), "statements/tick")
}
