package monitors

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/learnhub/analytics-service/anomaly"
)

func TestFloorAtZero(t *testing.T) {
	fc := anomaly.Forecast{Point: []float64{-0.2, 3},
		Intervals: []anomaly.Interval{{Level: 95, Lower: []float64{-2.5, 1}, Upper: []float64{-0.1, 5}}}}
	floorAtZero(&fc)
	assert.Equal(t, []float64{0, 3}, fc.Point)
	assert.Equal(t, []float64{0, 1}, fc.Intervals[0].Lower)
	assert.Equal(t, []float64{0, 5}, fc.Intervals[0].Upper)
}
