package anomaly

import (
	"math"
	"time"
)

// Defaults of SeasonalConfig.
const (
	defaultSeasonalAlpha = 0.05  // level smoothing
	defaultSeasonalGamma = 0.1   // daily profile smoothing (per slot visit)
	defaultSeasonalDelta = 0.05  // weekly (day-of-week) smoothing (per visit)
	defaultErrorRate     = 0.005 // weight of a new error in the model race
	defaultScaleRate     = 0.01  // weight of a new residual in the scale
	seasonalWarm         = 2     // days of history before the profile is trusted
	seasonalLevelPerDay  = 4.0   // seasonal level smoothing per day of slots
)

// SeasonalConfig tunes the seasonal detector; the zero value is the default.
type SeasonalConfig struct {
	// Alpha smooths the level (default 0.05).
	Alpha float64
	// Gamma smooths each time-of-day slot of the daily profile (default 0.1).
	Gamma float64
	// Delta smooths the day-of-week offsets (default 0.05).
	Delta float64
}

// detOut is one component's raw judgement, before calibration.
type detOut struct {
	surprise float64 // −log10 two-sided tail probability of the residual
	expected float64
	sigma    float64
	conf     float64
}

// seasonal is a Holt-Winters-style model: an exponentially smoothed level, a
// daily profile indexed by the timestamp's time of day (so gaps and irregular
// rows keep their phase) and day-of-week offsets. Seasonality is found from
// the timestamps' spacing: with a step of s seconds a day has 86400/s slots;
// a step of more than six hours has no daily profile. A plain smoothed level
// races the seasonal model: whichever predicted the recent past better judges
// the next point, so a series without seasonality is not forced into one.
type seasonal struct {
	cfg   SeasonalConfig
	clock detStep
	n     int

	level      float64 // plain smoothed level
	slevel     float64 // deseasonalised level
	day        []float64
	daySeen    []bool
	week       [7]float64
	slots      int
	firstN     int
	first      time.Time
	levelErr   float64 // smoothed |error| of the plain level
	seasErr    float64 // smoothed |error| of the seasonal model
	levelScale detRobustScale
	seasScale  detRobustScale
}

// Seasonal is the seasonal detector: the seasonal model's residual, scored
// robustly and calibrated.
type Seasonal struct{ *detSingle }

// NewSeasonal returns a seasonal detector.
func NewSeasonal(cfg SeasonalConfig) *Seasonal {
	return &Seasonal{newDetSingle(newSeasonal(cfg).step)}
}

func newSeasonal(cfg SeasonalConfig) *seasonal {
	if cfg.Alpha == 0 {
		cfg.Alpha = defaultSeasonalAlpha
	}
	if cfg.Gamma == 0 {
		cfg.Gamma = defaultSeasonalGamma
	}
	if cfg.Delta == 0 {
		cfg.Delta = defaultSeasonalDelta
	}
	return &seasonal{cfg: cfg, levelScale: detRobustScale{rate: defaultScaleRate}, seasScale: detRobustScale{rate: defaultScaleRate}}
}

// step judges o against the models fitted on earlier points, then folds o in.
func (m *seasonal) step(o Observation) detOut {
	x := o.Value
	step := m.clock.observe(o.Time)
	m.n++
	if m.n == 1 {
		m.level, m.slevel, m.first = x, x, o.Time
		return detOut{expected: math.NaN()}
	}
	if m.slots == 0 && step > 0 && step <= 6*3600 && m.n > detStepSample/2 {
		m.slots = int(math.Round(86400 / step))
		m.day = make([]float64, m.slots)
		m.daySeen = make([]bool, m.slots)
	}

	// Predictions from the past only.
	slot, dow := -1, 0
	seasReady := false
	if m.slots > 0 {
		sec := o.Time.Hour()*3600 + o.Time.Minute()*60 + o.Time.Second()
		slot = int(float64(sec)/step) % m.slots
		dow = int(o.Time.Weekday())
		seasReady = m.daySeen[slot] && o.Time.Sub(m.first) >= seasonalWarm*24*time.Hour
	}
	levelPred := m.level
	seasPred := m.slevel
	if slot >= 0 {
		seasPred += m.day[slot] + m.week[dow]
	}
	rl, rs := x-levelPred, x-seasPred

	useSeas := seasReady && m.seasErr < m.levelErr
	out := detOut{expected: levelPred, sigma: m.levelScale.sigma(), conf: detWarm(m.n, 100)}
	r := rl
	if useSeas {
		out.expected, out.sigma, r = seasPred, m.seasScale.sigma(), rs
	}
	if m.n > 10 {
		out.surprise = detTailSurprise(detZ(r, out.sigma, out.expected))
	}

	// Fold the point in.
	if m.n > 2 {
		m.levelErr += defaultErrorRate * (math.Abs(rl) - m.levelErr)
		if seasReady {
			m.seasErr += defaultErrorRate * (math.Abs(rs) - m.seasErr)
		} else {
			m.seasErr = m.levelErr * 1.0001
		}
	}
	m.levelScale.update(rl)
	if seasReady {
		m.seasScale.update(rs)
	} else {
		m.seasScale = m.levelScale
	}
	m.level += m.cfg.Alpha * rl
	if slot >= 0 {
		if o.Time.Sub(m.first) < 24*time.Hour {
			// First day: the deseasonalised level is the plain mean, so
			// the profile learns the day's shape instead of the level
			// swallowing it.
			m.firstN++
			m.slevel += (x - m.slevel) / float64(m.firstN)
		} else {
			// The seasonal level moves on the scale of a day, not of a
			// slot: a faster level would absorb the daily shape.
			a := math.Min(m.cfg.Alpha, seasonalLevelPerDay/float64(m.slots))
			m.slevel += a * (x - m.day[slot] - m.week[dow] - m.slevel)
		}
		if !m.daySeen[slot] {
			m.day[slot] = x - m.slevel
			m.daySeen[slot] = true
		} else {
			m.day[slot] += m.cfg.Gamma * (x - m.slevel - m.week[dow] - m.day[slot])
		}
		m.week[dow] += m.cfg.Delta / float64(m.slots) * (x - m.slevel - m.day[slot] - m.week[dow])
	} else {
		m.slevel = m.level
	}
	return out
}
