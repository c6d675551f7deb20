package reports

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/vg"

	"github.com/learnhub/analytics-service/dashboards"
)

// TestChartDrawsBandAndMarkers draws a line chart with and without an
// overlay and counts pixels: red marker pixels only with anomalies, and
// band-tinted pixels right of the last bucket only with a forecast.
func TestChartDrawsBandAndMarkers(t *testing.T) {
	day := func(i int) time.Time { return time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC) }
	sec := Section{Kind: dashboards.KindLine, Series: []ChartSeries{{Name: "Completions"}}}
	for i := range 20 {
		sec.Buckets = append(sec.Buckets, day(i))
		sec.Series[0].Values = append(sec.Series[0].Values, 100+10*math.Sin(float64(i)))
	}
	sec.Series[0].Values[12] = 180
	plain := sec
	fc := ChartForecast{Series: 0}
	for i := 20; i < 30; i++ {
		fc.Buckets = append(fc.Buckets, day(i))
		fc.Point, fc.Lower, fc.Upper = append(fc.Point, 100), append(fc.Lower, 70), append(fc.Upper, 130)
	}
	sec.Overlay = &ChartOverlay{Forecasts: []ChartForecast{fc}, Level: 95, Markers: []ChartMarker{{Series: 0, Bucket: day(12), Value: 180, Score: 0.9}}}

	count := func(s Section) (red, tinted int) {
		b, ok, err := chartPNG(&s, time.UTC, vg.Points(480), vg.Points(170))
		require.NoError(t, err)
		require.True(t, ok)
		img, err := png.Decode(bytes.NewReader(b))
		require.NoError(t, err)
		bounds := img.Bounds()
		for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
			for x := bounds.Min.X + bounds.Dx()*3/4; x < bounds.Max.X; x++ { // the forecast's quarter
				if isTint(img, x, y) {
					tinted++
				}
			}
			for x := bounds.Min.X; x < bounds.Max.X; x++ {
				if isRed(img, x, y) {
					red++
				}
			}
		}
		return red, tinted
	}
	red, edges := count(plain)
	assert.Zero(t, red, "no markers without anomalies")
	assert.Less(t, edges, 500, "without a forecast only the line's anti-aliased edges")
	red, tinted := count(sec)
	assert.Greater(t, red, 50, "a red marker")
	assert.Greater(t, tinted, edges+2000, "a shaded band after the window")
}

func isRed(img image.Image, x, y int) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	return r>>8 > 200 && g>>8 < 90 && b>>8 < 90
}

// isTint is the blue series colour at low alpha over white.
func isTint(img image.Image, x, y int) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	return b>>8 > 235 && r>>8 < 225 && r>>8 > 180 && g>>8 > 200
}
