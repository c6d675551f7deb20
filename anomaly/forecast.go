package anomaly

// Forecasters. Every model here is pure Go on gonum: no engine, no network,
// deterministic (the same history gives the same forecast, bit for bit; the
// Prophet-style model draws its trend futures from a fixed seed).
//
// A model is fitted to one series with Fit, which returns a Fitted model:
//
//   - Predict(h) gives the mean and the standard deviation of the forecast
//     for steps 1…h after the last observation; Forecast turns them into the
//     point forecast and the central intervals for the asked levels
//     (mean ± z·sd, Gaussian forecast errors);
//   - Observe(y) appends one observation and updates the model's state
//     without refitting its parameters, so Predict(1) is a one-step-ahead
//     prediction with its interval — what a streaming detector needs to
//     score the next point (no look-ahead: the state after Observe depends
//     only on the points seen).
//
// The models (names for Fit, the CLI's --model and metricForecast):
//
//   - snaive: seasonal naive on the shortest season; the benchmark baseline.
//   - ets: exponential smoothing state-space models, error additive or
//     multiplicative × trend none/additive/damped × season none/additive/
//     multiplicative (Hyndman et al. 2008), smoothing parameters by maximum
//     likelihood (Nelder–Mead), the model chosen by AICc.
//   - arima: seasonal ARIMA(p,d,q)(P,D,Q)m by conditional sum of squares,
//     d by KPSS tests, D by the seasonal strength of a decomposition,
//     orders by the Hyndman–Khandakar stepwise search on AICc.
//   - prophet: Prophet-style additive model, piecewise-linear trend with
//     changepoints plus Fourier seasonality for every season, fitted by MAP
//     (L-BFGS) with a Laplace prior on the changepoint deltas.
//   - mstl: multi-seasonal decomposition (all seasons, e.g. 24 and 168) and
//     a non-seasonal ETS on the seasonally adjusted series.
//   - mstl-arima: the longer seasons (e.g. 168) taken off by the same
//     decomposition, a seasonal ARIMA on the shortest one (e.g. 24).
//   - theta: the Theta method (SES with half the regression drift) on the
//     seasonally adjusted series.
//   - ensemble (the default): with two seasons or more, the mean of arima
//     and mstl-arima; otherwise the median of arima, ets and theta (see
//     forecast_ensemble.go for the measured reasons).
//
// Seasons come from the grain (SeasonsForGrain: hour → 24 and 168, day → 7)
// or from the caller; a season longer than half the history is dropped by
// the models that need two full cycles, so short series still forecast.

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Model names accepted by Fit.
const (
	ModelSeasonalNaive = "snaive"
	ModelETS           = "ets"
	ModelARIMA         = "arima"
	ModelProphet       = "prophet"
	ModelMSTL          = "mstl"
	ModelMSTLARIMA     = "mstl-arima"
	ModelTheta         = "theta"
	ModelEnsemble      = "ensemble"

	// DefaultModel is the forecaster used when none is named.
	DefaultModel = ModelEnsemble
	// MaxHorizon is the longest forecast served: beyond it the intervals
	// say nothing useful and the cost is unbounded input.
	MaxHorizon = 1000
)

// Options configure a forecaster.
type Options struct {
	// Seasons are the seasonal periods in steps, e.g. 24 and 168 for hourly
	// data. Zero value: no seasonality.
	Seasons []int
}

// Interval is a central prediction interval at one level.
type Interval struct {
	Level float64 // percent, e.g. 80 or 95
	Lower []float64
	Upper []float64
}

// Forecast is a point forecast with its intervals for steps 1…h.
type Forecast struct {
	Model     string
	Point     []float64
	Intervals []Interval // in the order of the levels asked for
}

// Fitted is a model fitted to a history.
type Fitted interface {
	// Name is the model name (for ets and arima, the selected variant too,
	// e.g. "ets(M,Ad,M)").
	Name() string
	// Predict returns the forecast mean and standard deviation for steps
	// 1…h after the last observation.
	Predict(h int) (mean, sd []float64)
	// Observe appends one observation and updates the state without
	// refitting the parameters.
	Observe(y float64)
}

// Models lists the model names Fit accepts.
func Models() []string {
	return []string{ModelEnsemble, ModelSeasonalNaive, ModelETS, ModelARIMA, ModelProphet, ModelMSTL, ModelMSTLARIMA, ModelTheta}
}

// DefaultLevels are the interval levels when none are asked for.
func DefaultLevels() []float64 { return []float64{80, 95} }

// SeasonsForGrain returns the seasonal periods of a time grain: hour → 24
// (daily) and 168 (weekly), day → 7 (weekly), week → 52, month → 12; nil for
// anything else (no seasonality).
func SeasonsForGrain(grain string) []int {
	switch strings.ToLower(grain) {
	case "hour", "hourly", "h":
		return []int{24, 168}
	case "day", "daily", "d":
		return []int{7}
	case "week", "weekly", "w":
		return []int{52}
	case "month", "monthly", "m":
		return []int{12}
	}
	return nil
}

// Fit fits the named model to history y (oldest first). A history too short
// for the model, or with a missing or infinite value, is a KindInvalid
// error saying what the model needs.
func Fit(model string, y []float64, opt Options) (Fitted, error) {
	const op = "anomaly.Fit"
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errs.Invalid(op, "history", fmt.Sprintf("value %d is %v; forecasters need finite values (fill or drop gaps first)", i+1, v))
		}
	}
	for _, s := range opt.Seasons {
		if s < 2 {
			return nil, errs.Invalid(op, "season", fmt.Sprintf("season %d: a seasonal period is at least 2 steps", s))
		}
	}
	seasons := slices.Clone(opt.Seasons)
	slices.Sort(seasons)
	seasons = slices.Compact(seasons)
	if need := minHistory(model, seasons); len(y) < need.n {
		return nil, errs.Invalid(op, "history", fmt.Sprintf("model %s needs at least %d points of history (%s); got %d", model, need.n, need.why, len(y)))
	}
	y = slices.Clone(y)
	switch model {
	case ModelSeasonalNaive:
		return fitSeasonalNaive(y, seasons), nil
	case ModelETS:
		return fitETSAuto(y, usableSeason(seasons, len(y))), nil
	case ModelARIMA:
		return fitARIMAAuto(y, usableSeason(seasons, len(y))), nil
	case ModelProphet:
		return fitProphet(y, seasons), nil
	case ModelMSTL:
		return fitMSTL(y, seasons, false), nil
	case ModelMSTLARIMA:
		return fitMSTL(y, seasons, true), nil
	case ModelTheta:
		return fitTheta(y, usableSeason(seasons, len(y))), nil
	case ModelEnsemble:
		return fitEnsemble(y, seasons), nil
	}
	return nil, errs.Invalid(op, "model", fmt.Sprintf("unknown model %q; use one of %s", model, strings.Join(Models(), ", ")))
}

// Run fits model to y and forecasts h steps with intervals at levels
// (percent, each in (0, 100)).
func Run(model string, y []float64, h int, levels []float64, opt Options) (Forecast, error) {
	const op = "anomaly.Run"
	if h < 1 || h > MaxHorizon {
		return Forecast{}, errs.Invalid(op, "horizon", fmt.Sprintf("horizon %d: use 1…%d steps", h, MaxHorizon))
	}
	for _, l := range levels {
		if !(l > 0 && l < 100) {
			return Forecast{}, errs.Invalid(op, "levels", fmt.Sprintf("level %v: an interval level is a percent strictly between 0 and 100, e.g. 80 or 95", l))
		}
	}
	f, err := Fit(model, y, opt)
	if err != nil {
		return Forecast{}, err
	}
	mean, sd := f.Predict(h)
	return intervals(f.Name(), mean, sd, levels), nil
}

// intervals builds the Gaussian central intervals mean ± z·sd.
func intervals(name string, mean, sd []float64, levels []float64) Forecast {
	fc := Forecast{Model: name, Point: mean}
	for _, l := range levels {
		z := normalQuantile(0.5 + l/200)
		iv := Interval{Level: l, Lower: make([]float64, len(mean)), Upper: make([]float64, len(mean))}
		for i := range mean {
			iv.Lower[i] = mean[i] - z*sd[i]
			iv.Upper[i] = mean[i] + z*sd[i]
		}
		fc.Intervals = append(fc.Intervals, iv)
	}
	return fc
}

// normalQuantile is the standard normal quantile function.
func normalQuantile(p float64) float64 {
	return distuv.UnitNormal.Quantile(p)
}

// requirement is the shortest history a model accepts and why.
type requirement struct {
	n   int
	why string
}

// minHistory is the shortest history a model accepts with these seasons.
// Models that need two cycles of a season fall back to fewer seasons on a
// shorter history instead of failing, so the floor is set by the model's
// own parameters.
func minHistory(model string, seasons []int) requirement {
	switch model {
	case ModelSeasonalNaive:
		if len(seasons) > 0 {
			return requirement{seasons[0], fmt.Sprintf("one full season of %d steps", seasons[0])}
		}
		return requirement{1, "one observation"}
	case ModelProphet:
		return requirement{minProphet, "a trend and its changepoints need that many points"}
	case ModelARIMA, ModelMSTLARIMA, ModelEnsemble:
		return requirement{minARIMA, "enough points to estimate an ARMA model after differencing"}
	}
	return requirement{minETS, "enough points to estimate a level and a trend"}
}

// usableSeason returns the shortest season with at least two full cycles
// in a history of n points, or 0 when there is none.
func usableSeason(seasons []int, n int) int {
	for _, s := range seasons {
		if n >= 2*s {
			return s
		}
	}
	return 0
}
