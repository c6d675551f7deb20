package anomaly

import "math"

// Defaults of ProphetConfig.
const (
	defaultProphetWindow = 1440 // points a fit uses: five days of 5-minute rows, two months of hours
	defaultProphetRefit  = 144  // points between fits
	minProphetDetect     = 48   // points before the first fit
	// prophetDetCPRange spreads the potential changepoints over 95% of the
	// window, not the forecaster's 80%: the detector forecasts a few steps,
	// so a recent change of trend must be a changepoint rather than be
	// extrapolated as the slope of the last fifth of the window.
	prophetDetCPRange = 0.95
	// prophetDetHorizon: a fit forecasts at most a tenth of its window
	// ahead, so the first fits on short histories are refreshed often.
	prophetDetHorizon = 10
	// prophetDetExact is the relative residual below which a point is
	// exactly as expected (the optimiser's rounding, not surprise).
	prophetDetExact = 1e-6
)

// ProphetConfig tunes the Prophet-style detector; the zero value is the
// default.
type ProphetConfig struct {
	// Window is how many recent points a fit uses (default 1440).
	Window int
	// Refit is how many points pass between fits (default 144).
	Refit int
}

// prophetDetModel is the Prophet-style forecaster (prophet.go: piecewise-
// linear trend with changepoints + Fourier seasonality, MAP-fitted with
// gonum's L-BFGS) run as a streaming detector. Every Refit points it is
// refitted on the last Window points only — never on the point it is about
// to judge — and forecasts the next Refit steps with its prediction
// interval; each new point is judged by where it falls in that interval.
// Seasons come from the timestamps' step (a day and a week of rows) and
// enter a fit once the window holds two cycles of them. Rows are indexed by
// position, so a gap in the timestamps shifts the phase until the next fit.
type prophetDetModel struct {
	cfg   ProphetConfig
	clock detStep
	hist  []float64 // the last Window values, oldest first
	n     int
	mean  []float64 // forecast of the next Refit steps from the last fit
	sd    []float64
	next  int // index into mean/sd of the coming point
}

// Prophet is the Prophet-style detector: the one-step-ahead prediction
// interval of a periodically refitted additive model, calibrated.
type Prophet struct{ *detSingle }

// NewProphet returns a Prophet-style detector.
func NewProphet(cfg ProphetConfig) *Prophet {
	return &Prophet{newDetSingle(newProphetDetModel(cfg).step)}
}

func newProphetDetModel(cfg ProphetConfig) *prophetDetModel {
	if cfg.Window <= 0 {
		cfg.Window = defaultProphetWindow
	}
	if cfg.Refit <= 0 {
		cfg.Refit = defaultProphetRefit
	}
	cfg.Window = max(cfg.Window, minProphetDetect)
	return &prophetDetModel{cfg: cfg}
}

func (m *prophetDetModel) step(o Observation) detOut {
	step := m.clock.observe(o.Time)
	m.n++
	out := detOut{expected: math.NaN(), conf: detWarm(m.n, m.cfg.Window)}
	if m.next < len(m.mean) {
		mu, sd := m.mean[m.next], m.sd[m.next]
		m.next++
		out.expected, out.sigma = mu, sd
		if r := o.Value - mu; math.Abs(r) > prophetDetExact*math.Abs(mu) {
			out.surprise = detTailSurprise(detZ(r, sd, mu))
		}
	}
	m.hist = append(m.hist, o.Value)
	if len(m.hist) > m.cfg.Window {
		m.hist = append(m.hist[:0], m.hist[len(m.hist)-m.cfg.Window:]...)
	}
	if len(m.hist) >= minProphetDetect && (m.mean == nil || m.next >= len(m.mean)) {
		p := fitProphetRange(m.hist, prophetSeasons(step, len(m.hist)), prophetDetCPRange)
		m.mean, m.sd = p.Predict(min(m.cfg.Refit, max(1, len(m.hist)/prophetDetHorizon)))
		m.next = 0
	}
	return out
}

// prophetSeasons are the periods, in rows, of a day and a week at a step of
// step seconds that fit twice into n rows.
func prophetSeasons(step float64, n int) []int {
	if step <= 0 {
		return nil
	}
	var out []int
	for _, span := range []float64{86400, 7 * 86400} {
		p := int(math.Round(span / step))
		if p >= 2 && 2*p <= n {
			out = append(out, p)
		}
	}
	return out
}
