package anomaly

import "math"

// Defaults of BOCPDConfig.
const (
	defaultBOCPDHazard = 1.0 / 250
	defaultBOCPDMaxRun = 300
	bocpdNormRate      = 0.002 // weight of a new point in the standardisation
	bocpdMinMass       = 1e-8  // run-length hypotheses below this are pruned
)

// BOCPDConfig tunes the changepoint detector; the zero value is the default.
type BOCPDConfig struct {
	// Hazard is the prior probability of a changepoint at each point
	// (default 1/250).
	Hazard float64
	// MaxRun bounds the run-length hypotheses kept (default 300).
	MaxRun int
}

// bocpdModel is Bayesian online changepoint detection (Adams & MacKay 2007)
// with a Normal-Gamma prior on the mean and precision of each run, on values
// standardised by a slow running location and scale. Its evidence is the
// collapse of the most probable run length: when the run the model believed
// in for a long time gives way to a short one, the level has shifted (the
// scoring NAB found best for this algorithm).
type bocpdModel struct {
	cfg   BOCPDConfig
	n     int
	loc   float64
	scale detRobustScale

	prob                     []float64 // P(run length = i | data)
	mu, kappa, alpha, beta   []float64 // posterior per run length
	next                     []float64
	nmu, nkappa, nalp, nbeta []float64
	prevMAP                  int
}

// BOCPD is the changepoint detector.
type BOCPD struct{ *detSingle }

// NewBOCPD returns a changepoint detector.
func NewBOCPD(cfg BOCPDConfig) *BOCPD {
	return &BOCPD{newDetSingle(newBOCPDModel(cfg).step)}
}

func newBOCPDModel(cfg BOCPDConfig) *bocpdModel {
	if cfg.Hazard <= 0 || cfg.Hazard >= 1 {
		cfg.Hazard = defaultBOCPDHazard
	}
	if cfg.MaxRun <= 0 {
		cfg.MaxRun = defaultBOCPDMaxRun
	}
	return &bocpdModel{cfg: cfg, scale: detRobustScale{rate: bocpdNormRate}}
}

// prior parameters of a fresh run, on the standardised scale.
const (
	bocpdMu0    = 0.0
	bocpdKappa0 = 1.0
	bocpdAlpha0 = 1.0
	bocpdBeta0  = 1.0
)

func (m *bocpdModel) step(o Observation) detOut {
	x := o.Value
	m.n++
	out := detOut{expected: math.NaN(), conf: detWarm(m.n, 200)}
	if m.n == 1 {
		m.loc = x
	}
	sigma := m.scale.sigma()
	z := detZ(x-m.loc, sigma, m.loc)
	if m.n > 1 {
		m.scale.update(x - m.loc)
	}
	m.loc += math.Max(bocpdNormRate, 1/float64(m.n)) * (x - m.loc)
	if m.n <= 20 {
		return out // let the standardisation settle
	}
	if m.prob == nil {
		m.prob = []float64{1}
		m.mu, m.kappa, m.alpha, m.beta = []float64{bocpdMu0}, []float64{bocpdKappa0}, []float64{bocpdAlpha0}, []float64{bocpdBeta0}
	}
	z = math.Max(-50, math.Min(50, z))

	h := m.cfg.Hazard
	k := len(m.prob)
	m.next = detResize(m.next, k+1)
	cp := 0.0
	for i := 0; i < k; i++ {
		pp := m.prob[i] * detStudentT(z, m.mu[i], m.kappa[i], m.alpha[i], m.beta[i])
		m.next[i+1] = pp * (1 - h)
		cp += pp * h
	}
	m.next[0] = cp
	total := 0.0
	for _, v := range m.next {
		total += v
	}
	if total <= 0 || math.IsNaN(total) {
		// Every hypothesis found the point impossible: start afresh.
		for i := range m.next {
			m.next[i] = 0
		}
		m.next[0], total = 1, 1
	}

	// Posterior parameters: run 0 is the prior, run i+1 extends run i by z.
	m.nmu, m.nkappa, m.nalp, m.nbeta = detResize(m.nmu, k+1), detResize(m.nkappa, k+1), detResize(m.nalp, k+1), detResize(m.nbeta, k+1)
	m.nmu[0], m.nkappa[0], m.nalp[0], m.nbeta[0] = bocpdMu0, bocpdKappa0, bocpdAlpha0, bocpdBeta0
	for i := 0; i < k; i++ {
		kp := m.kappa[i]
		m.nmu[i+1] = (kp*m.mu[i] + z) / (kp + 1)
		m.nkappa[i+1] = kp + 1
		m.nalp[i+1] = m.alpha[i] + 0.5
		m.nbeta[i+1] = m.beta[i] + kp*(z-m.mu[i])*(z-m.mu[i])/(2*(kp+1))
	}
	// Normalise, prune the negligible tail and cap the hypotheses.
	keep := len(m.next)
	for keep > 1 && m.next[keep-1]/total < bocpdMinMass {
		keep--
	}
	if keep > m.cfg.MaxRun {
		// The longest hypotheses merge into one "run of at least MaxRun"
		// that keeps the longest run's posterior, so the established run
		// does not fall off the end and look like a changepoint.
		last := m.cfg.MaxRun - 1
		for i := m.cfg.MaxRun; i < keep; i++ {
			m.next[last] += m.next[i]
		}
		m.nmu[last], m.nkappa[last], m.nalp[last], m.nbeta[last] = m.nmu[keep-1], m.nkappa[keep-1], m.nalp[keep-1], m.nbeta[keep-1]
		keep = m.cfg.MaxRun
	}
	m.prob = detResize(m.prob, keep)
	best, bestP := 0, -1.0
	for i := 0; i < keep; i++ {
		m.prob[i] = m.next[i] / total
		if m.prob[i] > bestP {
			best, bestP = i, m.prob[i]
		}
	}
	m.mu = append(m.mu[:0], m.nmu[:keep]...)
	m.kappa = append(m.kappa[:0], m.nkappa[:keep]...)
	m.alpha = append(m.alpha[:0], m.nalp[:keep]...)
	m.beta = append(m.beta[:0], m.nbeta[:keep]...)

	if best < m.prevMAP && m.prevMAP > 0 {
		// 1 − best/prev in [0,1]; as a surprise: a collapse of a long run
		// to a fresh one is worth as much as a 1e-6 tail.
		out.surprise = 6 * (1 - float64(best)/float64(m.prevMAP))
	}
	m.prevMAP = best
	out.expected, out.sigma = m.loc, sigma
	return out
}

// detStudentT is the posterior predictive density of z under a Normal-Gamma
// posterior: Student's t with 2α degrees of freedom.
func detStudentT(z, mu, kappa, alpha, beta float64) float64 {
	nu := 2 * alpha
	s2 := beta * (kappa + 1) / (alpha * kappa)
	d := (z - mu) * (z - mu) / (nu * s2)
	lg1, _ := math.Lgamma((nu + 1) / 2)
	lg2, _ := math.Lgamma(nu / 2)
	return math.Exp(lg1 - lg2 - 0.5*math.Log(nu*math.Pi*s2) - (nu+1)/2*math.Log1p(d))
}

// detResize returns s with length n, reusing its storage.
func detResize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n, 2*n)
	}
	return s[:n]
}
