package anomaly

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"
)

// minETS is the shortest history ETS fits: a level and a trend and their
// smoothing parameters leave too few degrees of freedom below it.
const minETS = 10

// Components of an ETS model.
const (
	compNone = iota
	compAdditive
	compDamped // trend only
	compMultiplicative
)

// etsSpec is one ETS variant: error, trend and season types.
type etsSpec struct {
	errMul bool
	trend  int // compNone, compAdditive or compDamped
	season int // compNone, compAdditive or compMultiplicative
}

func (s etsSpec) String() string {
	e := "A"
	if s.errMul {
		e = "M"
	}
	t := map[int]string{compNone: "N", compAdditive: "A", compDamped: "Ad"}[s.trend]
	se := map[int]string{compNone: "N", compAdditive: "A", compMultiplicative: "M"}[s.season]
	return fmt.Sprintf("ets(%s,%s,%s)", e, t, se)
}

// ets is a fitted ETS model and its state after the last observation.
type ets struct {
	spec                    etsSpec
	m                       int
	alpha, beta, gamma, phi float64
	l, b                    float64
	s                       []float64 // seasonal state by phase t % m
	t                       int       // observations absorbed
	sigma                   float64   // error sd (relative for multiplicative errors)
	aicc                    float64
}

// etsParams maps unconstrained optimiser coordinates to the usual
// admissible region: 0 < α < 1, 0 < β < α, 0 < γ < 1 − α, 0.8 ≤ φ ≤ 0.98.
func (e *ets) setParams(x []float64) {
	i := 0
	e.alpha = 1e-4 + (1-2e-4)*sigmoid(x[i])
	i++
	e.beta, e.gamma, e.phi = 0, 0, 1
	if e.spec.trend != compNone {
		e.beta = e.alpha * 0.999 * sigmoid(x[i])
		i++
	}
	if e.spec.season != compNone {
		e.gamma = (1 - e.alpha) * 0.999 * sigmoid(x[i])
		i++
	}
	if e.spec.trend == compDamped {
		e.phi = 0.8 + 0.18*sigmoid(x[i])
	}
}

// fitETSAuto fits every admissible variant and keeps the one with the
// lowest AICc. Multiplicative variants need a strictly positive series;
// additive errors are not combined with multiplicative seasons (unstable,
// as in R's forecast::ets default).
func fitETSAuto(y []float64, m int) *ets {
	positive := true
	for _, v := range y {
		if v <= 0 {
			positive = false
			break
		}
	}
	seasons := []int{compNone}
	if m >= 2 && len(y) >= 2*m {
		seasons = append(seasons, compAdditive)
		if positive {
			seasons = append(seasons, compMultiplicative)
		}
	}
	var best *ets
	for _, errMul := range []bool{false, true} {
		if errMul && !positive {
			continue
		}
		for _, trend := range []int{compNone, compAdditive, compDamped} {
			for _, season := range seasons {
				if !errMul && season == compMultiplicative {
					continue
				}
				e := fitETS(y, etsSpec{errMul: errMul, trend: trend, season: season}, m)
				if e != nil && (best == nil || e.aicc < best.aicc) {
					best = e
				}
			}
		}
	}
	if best == nil { // every variant diverged: a flat level always fits
		best = fitETS(y, etsSpec{}, 1)
	}
	return best
}

// fitETS fits one variant by maximum likelihood; nil when it diverges.
func fitETS(y []float64, spec etsSpec, m int) *ets {
	if spec.season == compNone {
		m = 1
	}
	l0, b0, s0 := etsInit(y, spec, m)
	proto := ets{spec: spec, m: m}
	dim := 1
	x0 := []float64{logit(0.1)}
	if spec.trend != compNone {
		dim++
		x0 = append(x0, logit(0.1))
	}
	if spec.season != compNone {
		dim++
		x0 = append(x0, logit(0.02))
	}
	if spec.trend == compDamped {
		dim++
		x0 = append(x0, logit(0.5))
	}
	objective := func(x []float64) float64 {
		e := proto
		e.setParams(x)
		e.l, e.b, e.s = l0, b0, append([]float64(nil), s0...)
		lik, _ := e.filter(y)
		return lik
	}
	res, err := optimize.Minimize(optimize.Problem{Func: objective}, x0, &optimize.Settings{
		FuncEvaluations: 150 * dim,
		Converger:       &optimize.FunctionConverge{Absolute: 1e-4, Relative: 1e-7, Iterations: 20 * dim},
	}, &optimize.NelderMead{SimplexSize: 1})
	if res == nil || err != nil && math.IsInf(res.F, 0) {
		return nil
	}
	e := proto
	e.setParams(res.X)
	e.l, e.b, e.s = l0, b0, append([]float64(nil), s0...)
	lik, sse := e.filter(y)
	if math.IsInf(lik, 0) || math.IsNaN(lik) {
		return nil
	}
	n := float64(len(y))
	k := float64(dim + 2) // smoothing parameters, initial level, sigma
	if spec.trend != compNone {
		k++
	}
	if spec.season != compNone {
		k += float64(m - 1)
	}
	if n-k-1 <= 0 {
		return nil
	}
	e.aicc = lik + 2*k + 2*k*(k+1)/(n-k-1)
	e.sigma = math.Sqrt(sse / math.Max(n-k, 1))
	return &e
}

// etsInit gives the initial states: seasonal indices from a decomposition
// of the first cycles, level and trend from a regression on the first
// seasonally adjusted points.
func etsInit(y []float64, spec etsSpec, m int) (l0, b0 float64, s0 []float64) {
	s0 = make([]float64, m)
	adj := y
	if spec.season != compNone {
		head := y[:min(len(y), 4*m)]
		d := decompose(head, []int{m})
		adj = d.adjusted
		var level float64
		for _, v := range head {
			level += v
		}
		level /= float64(len(head))
		for p := range m {
			s0[p] = d.seasonal[0][p]
			if spec.season == compMultiplicative {
				s0[p] = 1 + s0[p]/level
			}
		}
	} else {
		for p := range m {
			s0[p] = 0
		}
	}
	k := min(len(adj), max(10, 2*m))
	// Least squares line through the first k adjusted points.
	var sx, sy, sxx, sxy float64
	for i := range k {
		x := float64(i)
		sx += x
		sy += adj[i]
		sxx += x * x
		sxy += x * adj[i]
	}
	fk := float64(k)
	b0 = (fk*sxy - sx*sy) / (fk*sxx - sx*sx)
	l0 = sy/fk - b0*sx/fk
	if spec.trend == compNone {
		b0 = 0
		l0 = sy / fk
	}
	return l0, b0, s0
}

// forecastOne is the one-step forecast from the current state.
func (e *ets) forecastOne() (yhat, q, s float64) {
	q = e.l + e.phi*e.b
	switch e.spec.season {
	case compAdditive:
		s = e.s[e.t%e.m]
		return q + s, q, s
	case compMultiplicative:
		s = e.s[e.t%e.m]
		return q * s, q, s
	}
	return q, q, 0
}

// update absorbs y into the state (Hyndman et al. 2008, the error-free
// form shared by additive and multiplicative errors).
func (e *ets) update(y, q, s float64) {
	p := y
	switch e.spec.season {
	case compAdditive:
		p = y - s
	case compMultiplicative:
		p = y / s
	}
	oldl := e.l
	e.l = q + e.alpha*(p-q)
	if e.spec.trend != compNone {
		phib := e.phi * e.b
		e.b = phib + (e.beta/e.alpha)*(e.l-oldl-phib)
	}
	switch e.spec.season {
	case compAdditive:
		e.s[e.t%e.m] = s + e.gamma*(y-q-s)
	case compMultiplicative:
		e.s[e.t%e.m] = s + e.gamma*(y/q-s)
	}
	e.t++
}

// filter runs the model over y from its initial state and returns −2 log
// likelihood up to a constant (n·log SSE, plus 2·Σlog|ŷ| for
// multiplicative errors) and the sum of squared (relative) errors.
func (e *ets) filter(y []float64) (lik, sse float64) {
	var sumLog float64
	for _, v := range y {
		yhat, q, s := e.forecastOne()
		if e.spec.errMul {
			if !(yhat > 1e-10) || (e.spec.season == compMultiplicative && !(q > 1e-10)) {
				return math.Inf(1), math.Inf(1)
			}
			r := (v - yhat) / yhat
			sse += r * r
			sumLog += math.Log(yhat)
		} else {
			r := v - yhat
			sse += r * r
		}
		e.update(v, q, s)
		if math.IsNaN(e.l) || math.IsInf(e.l, 0) {
			return math.Inf(1), math.Inf(1)
		}
	}
	n := float64(len(y))
	if sse <= 0 {
		sse = 1e-300
	}
	return n*math.Log(sse/n) + 2*sumLog, sse
}

func (e *ets) Name() string { return e.spec.String() }

func (e *ets) Predict(h int) (mean, sd []float64) {
	mean = make([]float64, h)
	sd = make([]float64, h)
	var phiH, cum float64 // Σφ^i for i ≤ step; Σ c_j² for j < step
	pw := 1.0
	for k := range h {
		step := k + 1
		switch e.spec.trend {
		case compAdditive:
			phiH = float64(step)
		case compDamped:
			pw *= e.phi
			phiH += pw
		}
		q := e.l + phiH*e.b
		switch e.spec.season {
		case compAdditive:
			mean[k] = q + e.s[(e.t+k)%e.m]
		case compMultiplicative:
			mean[k] = q * e.s[(e.t+k)%e.m]
		default:
			mean[k] = q
		}
		v := 1 + cum
		if e.spec.errMul {
			sd[k] = math.Abs(mean[k]) * e.sigma * math.Sqrt(v)
		} else {
			sd[k] = e.sigma * math.Sqrt(v)
		}
		// c_step for the next step's variance.
		c := e.alpha
		switch e.spec.trend {
		case compAdditive:
			c += e.beta * float64(step)
		case compDamped:
			c += e.beta * phiH
		}
		if e.spec.season != compNone && step%e.m == 0 {
			c += e.gamma
		}
		cum += c * c
	}
	return mean, sd
}

func (e *ets) Observe(y float64) {
	_, q, s := e.forecastOne()
	e.update(y, q, s)
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func logit(p float64) float64 { return math.Log(p / (1 - p)) }
