package anomaly

import "math"

// Defaults of ARConfig.
const (
	defaultAROrder  = 8
	defaultARWindow = 600
	defaultARRefit  = 50
	arRidge         = 1e-2 // ridge weight per row, on standardised values
)

// ARConfig tunes the AR detector; the zero value is the default.
type ARConfig struct {
	// Order is p, the number of lags (default 8).
	Order int
	// Window is how many recent points a fit uses (default 600).
	Window int
	// Refit is how many points pass between fits (default 50).
	Refit int
}

// arModel is an AR(p) one-step-ahead predictor with an intercept, refitted
// every Refit points by ridge least squares on the last Window points
// (standardised by that window's mean and deviation). Until the first fit it
// predicts the last value. Residuals are judged against a robust running
// scale of its own out-of-sample errors: the prediction interval.
type arModel struct {
	cfg     ARConfig
	hist    []float64 // the last Window+Order values, oldest first
	n       int
	coef    []float64 // intercept, then lag 1…p, on the standardised scale
	mu, sd  float64   // standardisation of the last fit
	scale   detRobustScale
	sinceFt int
}

// AR is the AR detector: the AR model's prediction interval, calibrated.
type AR struct{ *detSingle }

// NewAR returns an AR detector.
func NewAR(cfg ARConfig) *AR {
	return &AR{newDetSingle(newARModel(cfg).step)}
}

func newARModel(cfg ARConfig) *arModel {
	if cfg.Order <= 0 {
		cfg.Order = defaultAROrder
	}
	if cfg.Window <= 0 {
		cfg.Window = defaultARWindow
	}
	if cfg.Refit <= 0 {
		cfg.Refit = defaultARRefit
	}
	return &arModel{cfg: cfg, scale: detRobustScale{rate: defaultScaleRate}}
}

// predict is the one-step-ahead prediction from the history.
func (m *arModel) predict() float64 {
	last := m.hist[len(m.hist)-1]
	if m.coef == nil {
		return last
	}
	p := m.cfg.Order
	y := m.coef[0]
	for k := 1; k <= p; k++ {
		y += m.coef[k] * (m.hist[len(m.hist)-k] - m.mu) / m.sd
	}
	return m.mu + m.sd*y
}

func (m *arModel) step(o Observation) detOut {
	x := o.Value
	m.n++
	out := detOut{expected: math.NaN(), conf: detWarm(m.n, 2*m.cfg.Window)}
	if len(m.hist) > 0 {
		pred := m.predict()
		r := x - pred
		out.expected, out.sigma = pred, m.scale.sigma()
		if m.n > 10 {
			out.surprise = detTailSurprise(detZ(r, out.sigma, pred))
		}
		m.scale.update(r)
	}
	m.hist = append(m.hist, x)
	if over := len(m.hist) - (m.cfg.Window + m.cfg.Order); over > 0 {
		m.hist = append(m.hist[:0], m.hist[over:]...)
	}
	m.sinceFt++
	if m.sinceFt >= m.cfg.Refit && len(m.hist) >= 4*m.cfg.Order+20 {
		m.fit()
		m.sinceFt = 0
	}
	return out
}

// fit refits the coefficients on the history.
func (m *arModel) fit() {
	p := m.cfg.Order
	h := m.hist
	mu, sd := 0.0, 0.0
	for _, v := range h {
		mu += v
	}
	mu /= float64(len(h))
	for _, v := range h {
		sd += (v - mu) * (v - mu)
	}
	sd = math.Sqrt(sd / float64(len(h)))
	if sd == 0 || math.IsNaN(sd) {
		m.coef = nil
		return
	}
	k := p + 1
	ata := make([]float64, k*k)
	atb := make([]float64, k)
	row := make([]float64, k)
	rows := 0
	for t := p; t < len(h); t++ {
		row[0] = 1
		for j := 1; j <= p; j++ {
			row[j] = (h[t-j] - mu) / sd
		}
		y := (h[t] - mu) / sd
		for i := 0; i < k; i++ {
			atb[i] += row[i] * y
			for j := 0; j < k; j++ {
				ata[i*k+j] += row[i] * row[j]
			}
		}
		rows++
	}
	for i := 1; i < k; i++ {
		ata[i*k+i] += arRidge * float64(rows)
	}
	coef, ok := detSolve(ata, atb, k)
	if !ok {
		return
	}
	m.coef, m.mu, m.sd = coef, mu, sd
}

// detSolve solves the k×k system a·x = b (row-major a) by Gaussian
// elimination with partial pivoting; a and b are overwritten.
func detSolve(a, b []float64, k int) ([]float64, bool) {
	for c := 0; c < k; c++ {
		piv := c
		for r := c + 1; r < k; r++ {
			if math.Abs(a[r*k+c]) > math.Abs(a[piv*k+c]) {
				piv = r
			}
		}
		if math.Abs(a[piv*k+c]) < 1e-12 {
			return nil, false
		}
		if piv != c {
			for j := 0; j < k; j++ {
				a[c*k+j], a[piv*k+j] = a[piv*k+j], a[c*k+j]
			}
			b[c], b[piv] = b[piv], b[c]
		}
		for r := c + 1; r < k; r++ {
			f := a[r*k+c] / a[c*k+c]
			for j := c; j < k; j++ {
				a[r*k+j] -= f * a[c*k+j]
			}
			b[r] -= f * b[c]
		}
	}
	x := make([]float64, k)
	for r := k - 1; r >= 0; r-- {
		s := b[r]
		for j := r + 1; j < k; j++ {
			s -= a[r*k+j] * x[j]
		}
		x[r] = s / a[r*k+r]
	}
	return x, true
}
