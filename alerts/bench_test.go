package alerts_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkTick measures one evaluation tick of 20 daily threshold rules of
// five series each (100 series) on the embedded engine: each iteration is
// a new day, so every rule is read, stepped and recorded.
func BenchmarkTick(b *testing.B) {
	h := newHarness(b)
	for i := 0; i < 20; i++ {
		_, err := h.svc.Create(as("acme"), thresholdRule(float64(i), "properties.course_id"))
		require.NoError(b, err)
	}
	start := day(2)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.clock.Set(start.Add(time.Duration(i)*24*time.Hour + 5*time.Minute))
		require.NoError(b, h.svc.Tick(context.Background()))
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/tick")
}
