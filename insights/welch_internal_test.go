package insights

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/learnhub/analytics-service/metrics"
)

// TestWelchP checks Welch's t test against the worked examples of the
// Wikipedia article "Welch's t-test" (p = 0.021 and 0.149, two-sided).
func TestWelchP(t *testing.T) {
	moments := func(xs ...float64) metrics.Moments {
		var m metrics.Moments
		for _, x := range xs {
			m.Count, m.Sum, m.SumSquares = m.Count+1, m.Sum+x, m.SumSquares+x*x
		}
		return m
	}
	for _, tc := range []struct {
		name string
		a, b metrics.Moments
		p    float64
	}{
		{"example 1", moments(27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4),
			moments(27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4), 0.021},
		{"example 2", moments(17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8),
			moments(21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8), 0.149},
		{"one value", moments(3), moments(1, 2, 3), 1},
		{"no variation", moments(2, 2, 2), moments(2, 2), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.p, welchP(tc.a, tc.b), 0.0005)
			assert.InDelta(t, welchP(tc.a, tc.b), welchP(tc.b, tc.a), 1e-12, "two-sided: symmetric")
		})
	}
}
