package anomaly

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
)

// seasonalTrend is 100 + 0.2·t + 10·sin(2πt/24) plus N(0, noise²) from a
// fixed seed: the known structure the forecasters must recover.
func seasonalTrend(n int, noise float64) (y []float64, truth func(t int) float64) {
	truth = func(t int) float64 {
		return 100 + 0.2*float64(t) + 10*math.Sin(2*math.Pi*float64(t)/24)
	}
	r := rand.New(rand.NewPCG(1, 2))
	y = make([]float64, n)
	for t := range y {
		y[t] = truth(t) + noise*r.NormFloat64()
	}
	return y, truth
}

// TestForecastersRecoverSeasonalTrend: every model forecasts a noisy
// seasonal series with a trend within its tolerance of the noise-free
// continuation, its intervals nest (95% ⊇ 80% ∋ point) and do not narrow
// with the horizon.
func TestForecastersRecoverSeasonalTrend(t *testing.T) {
	const n, h = 24 * 20, 48
	y, truth := seasonalTrend(n, 1)
	for _, tc := range []struct {
		model  string
		maxMAE float64 // mean absolute error against the noise-free future
	}{
		{ModelSeasonalNaive, 8}, // misses the trend: 4.8 a day
		{ModelETS, 2},
		{ModelARIMA, 2},
		{ModelProphet, 2},
		{ModelMSTL, 2},
		{ModelTheta, 3},
		{ModelEnsemble, 2},
	} {
		t.Run(tc.model, func(t *testing.T) {
			fc, err := Run(tc.model, y, h, []float64{80, 95}, Options{Seasons: []int{24}})
			require.NoError(t, err)
			require.Len(t, fc.Point, h)
			require.Len(t, fc.Intervals, 2)
			var mae float64
			for k := range h {
				mae += math.Abs(fc.Point[k]-truth(n+k)) / h
				lo80, hi80 := fc.Intervals[0].Lower[k], fc.Intervals[0].Upper[k]
				lo95, hi95 := fc.Intervals[1].Lower[k], fc.Intervals[1].Upper[k]
				assert.True(t, lo95 <= lo80 && lo80 <= fc.Point[k] && fc.Point[k] <= hi80 && hi80 <= hi95,
					"step %d: 95%% [%v, %v] must hold 80%% [%v, %v] around %v", k+1, lo95, hi95, lo80, hi80, fc.Point[k])
			}
			assert.Less(t, mae, tc.maxMAE, "%s: mean absolute error", fc.Model)
			w1 := fc.Intervals[1].Upper[0] - fc.Intervals[1].Lower[0]
			wh := fc.Intervals[1].Upper[h-1] - fc.Intervals[1].Lower[h-1]
			assert.Greater(t, w1, 0.0, "step 1 interval has width")
			assert.GreaterOrEqual(t, wh, w1, "the step-%d interval is at least as wide as step 1's", h)
		})
	}
}

// TestForecastDegenerateSeries: a constant series and a noise-free
// seasonal one (exact fits, zero residuals) still forecast their own
// continuation with finite intervals.
func TestForecastDegenerateSeries(t *testing.T) {
	constant := make([]float64, 24*8)
	pure := make([]float64, 24*8)
	for i := range constant {
		constant[i] = 7
		pure[i] = 20 + 5*math.Sin(2*math.Pi*float64(i)/24)
	}
	for name, y := range map[string][]float64{"constant": constant, "noise-free seasonal": pure} {
		for _, model := range Models() {
			t.Run(name+"/"+model, func(t *testing.T) {
				fc, err := Run(model, y, 24, DefaultLevels(), Options{Seasons: []int{24}})
				require.NoError(t, err)
				for k, v := range fc.Point {
					tol := 0.5
					if model == ModelProphet {
						tol = 1 // the priors shrink the fit a little
					}
					assert.InDelta(t, y[len(y)-24+k], v, tol, "%s step %d", fc.Model, k+1)
					for _, iv := range fc.Intervals {
						assert.False(t, math.IsNaN(iv.Lower[k]) || math.IsNaN(iv.Upper[k]) || math.IsInf(iv.Upper[k], 0))
					}
				}
			})
		}
	}
}

// TestForecastDeterministic: the same history gives the same forecast.
func TestForecastDeterministic(t *testing.T) {
	y, _ := seasonalTrend(24*10, 2)
	for _, model := range Models() {
		t.Run(model, func(t *testing.T) {
			a, err := Run(model, y, 30, DefaultLevels(), Options{Seasons: []int{24, 168}})
			require.NoError(t, err)
			b, err := Run(model, y, 30, DefaultLevels(), Options{Seasons: []int{24, 168}})
			require.NoError(t, err)
			assert.Equal(t, a, b)
		})
	}
}

// TestForecastTooShort: a history below a model's floor is a bad-input
// error naming what the model needs.
func TestForecastTooShort(t *testing.T) {
	y := []float64{1, 2, 3, 4, 5}
	for _, model := range Models() {
		t.Run(model, func(t *testing.T) {
			_, err := Run(model, y, 5, DefaultLevels(), Options{Seasons: []int{24}})
			require.Error(t, err)
			assert.True(t, errs.Is(err, errs.KindInvalid), "%v", err)
			assert.Contains(t, errs.PublicMessage(err), "needs at least")
			assert.Contains(t, errs.PublicMessage(err), "got 5")
		})
	}
}

// TestForecastBadInput: horizon, levels, model and values are checked.
func TestForecastBadInput(t *testing.T) {
	y, _ := seasonalTrend(100, 1)
	for _, tc := range []struct {
		name   string
		model  string
		y      []float64
		h      int
		levels []float64
		season []int
		want   string
	}{
		{"horizon over the limit", ModelETS, y, MaxHorizon + 1, DefaultLevels(), nil, "horizon 1001"},
		{"zero horizon", ModelETS, y, 0, DefaultLevels(), nil, "horizon 0"},
		{"level 100", ModelETS, y, 5, []float64{100}, nil, "level 100"},
		{"unknown model", "lstm", y, 5, DefaultLevels(), nil, `unknown model "lstm"`},
		{"NaN", ModelETS, append(slices.Clone(y), math.NaN()), 5, DefaultLevels(), nil, "value 101 is NaN"},
		{"season 1", ModelETS, y, 5, DefaultLevels(), []int{1}, "season 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(tc.model, tc.y, tc.h, tc.levels, Options{Seasons: tc.season})
			require.Error(t, err)
			assert.True(t, errs.Is(err, errs.KindInvalid))
			assert.Contains(t, errs.PublicMessage(err), tc.want)
		})
	}
}

// TestObserveOneStepAhead: after fitting on a prefix, Observe walks the
// state through the rest one point at a time, and each one-step-ahead
// prediction stays close to the truth — the detector-side API; a state
// that lost its seasonal phase would be off by the seasonal amplitude.
func TestObserveOneStepAhead(t *testing.T) {
	const n = 24 * 20
	y, truth := seasonalTrend(n+48, 0.5)
	for _, model := range Models() {
		t.Run(model, func(t *testing.T) {
			tolerance := 3.0
			if model == ModelSeasonalNaive {
				tolerance = 6 // a day of trend, 4.8, is its error
			}
			f, err := Fit(model, y[:n], Options{Seasons: []int{24}})
			require.NoError(t, err)
			var mae float64
			for k := n; k < n+48; k++ {
				mean, sd := f.Predict(1)
				require.Len(t, mean, 1)
				assert.Greater(t, sd[0], 0.0)
				mae += math.Abs(mean[0]-truth(k)) / 48
				f.Observe(y[k])
			}
			assert.Less(t, mae, tolerance, "%s one-step mean absolute error", f.Name())
		})
	}
}

// TestETSSelectsSeasonal: on a positive seasonal series the AICc choice is
// a seasonal variant; on white noise around a level, a model without season.
func TestETSSelectsSeasonal(t *testing.T) {
	y, _ := seasonalTrend(24*12, 1)
	e := fitETSAuto(y, 24)
	assert.NotEqual(t, compNone, e.spec.season, e.Name())
	r := rand.New(rand.NewPCG(3, 4))
	flat := make([]float64, 24*12)
	for i := range flat {
		flat[i] = 50 + r.NormFloat64()
	}
	e = fitETSAuto(flat, 24)
	assert.Equal(t, compNone, e.spec.season, e.Name())
}

// TestARIMARecoversAR1: an AR(1) with φ = 0.8 around 0 is forecast as a
// geometric decay from the last value.
func TestARIMARecoversAR1(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	y := make([]float64, 600)
	for i := 1; i < len(y); i++ {
		y[i] = 0.8*y[i-1] + r.NormFloat64()
	}
	a := fitARIMAAuto(y, 0)
	mean, sd := a.Predict(3)
	last := y[len(y)-1]
	assert.InDelta(t, 0.8*last, mean[0], 0.35, a.Name())
	assert.InDelta(t, 0.64*last, mean[1], 0.5, a.Name())
	assert.InDelta(t, 1.0, sd[0], 0.15, "one-step sd is the innovation sd")
	assert.Greater(t, sd[2], sd[0])
}

// TestProphetFollowsChangepoint: a trend that turns from rising to falling
// at 60% of the history is forecast falling.
func TestProphetFollowsChangepoint(t *testing.T) {
	n := 400
	truth := func(i int) float64 {
		v := float64(i)
		if i > 240 {
			v = 240 - 0.5*float64(i-240)
		}
		return 100 + v + 5*math.Sin(2*math.Pi*float64(i)/24)
	}
	y := make([]float64, n)
	for i := range y {
		y[i] = truth(i)
	}
	p := fitProphet(y, []int{24})
	mean, _ := p.Predict(24)
	for k, m := range mean {
		assert.InDelta(t, truth(n+k), m, 1.5, "step %d", k+1)
	}
}

// TestDetectSeasons finds daily, weekly-of-days and no seasonality.
func TestDetectSeasons(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	gen := func(n, period int) []float64 {
		y := make([]float64, n)
		for i := range y {
			y[i] = r.NormFloat64()
			if period > 0 {
				y[i] += 5 * math.Sin(2*math.Pi*float64(i)/float64(period))
			}
		}
		return y
	}
	assert.Equal(t, []int{24}, DetectSeasons(gen(24*10, 24)))
	assert.Equal(t, []int{24, 168}, DetectSeasons(gen(24*15, 24)), "two weeks of hourly data bring the weekly season")
	assert.Equal(t, []int{7}, DetectSeasons(gen(7*30, 7)))
	assert.Nil(t, DetectSeasons(gen(300, 0)))
}

// TestSeasonsForGrain maps grains to periods.
func TestSeasonsForGrain(t *testing.T) {
	assert.Equal(t, []int{24, 168}, SeasonsForGrain("hour"))
	assert.Equal(t, []int{7}, SeasonsForGrain("day"))
	assert.Nil(t, SeasonsForGrain("minute"))
}

// TestReadLong reads series in first-appearance order and refuses bad lines
// with their number.
func TestReadLong(t *testing.T) {
	s, err := ReadLong(strings.NewReader("unique_id,ds,y\na,0,1\na,1,2\nb,2026-01-01 00:00:00,5\nb,2026-01-01 01:00:00,6\n"))
	require.NoError(t, err)
	require.Len(t, s, 2)
	assert.Equal(t, "a", s[0].ID)
	assert.Equal(t, []float64{1, 2}, s[0].Y)
	assert.Equal(t, 2, s[0].Line)
	assert.Equal(t, "hour", s[1].Grain())
	assert.Equal(t, 4, s[1].Line)

	for _, tc := range []struct {
		name, in string
		line     int
		want     string
	}{
		{"empty", "", 1, "empty input"},
		{"bad header", "id,time,value\na,0,1\n", 1, "want unique_id,ds,y"},
		{"unparsable y", "unique_id,ds,y\na,0,1\na,1,x\n", 3, `y "x" is not a finite number`},
		{"unparsable ds", "unique_id,ds,y\na,yesterday,1\n", 2, "neither an integer step nor a timestamp"},
		{"unsorted steps", "unique_id,ds,y\na,0,1\na,2,1\na,1,1\n", 4, "not after the previous 2"},
		{"unsorted times", "unique_id,ds,y\na,2026-01-02,1\na,2026-01-01,1\n", 3, "increasing time order"},
		{"mixed ds", "unique_id,ds,y\na,0,1\na,2026-01-01,1\n", 3, "uses integer steps"},
		{"field count", "unique_id,ds,y\na,0\n", 2, "2 fields"},
		{"no rows", "unique_id,ds,y\n", 2, "no data rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadLong(strings.NewReader(tc.in))
			require.Error(t, err)
			var le *LineError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, tc.line, le.Line)
			assert.Contains(t, le.Msg, tc.want)
			assert.True(t, errs.Is(err, errs.KindInvalid))
		})
	}
}
