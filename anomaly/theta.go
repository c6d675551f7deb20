package anomaly

import (
	"math"

	"gonum.org/v1/gonum/optimize"
)

// theta is the Theta method of Assimakopoulos & Nikolopoulos (2000) in the
// form of Hyndman & Billah (2003): simple exponential smoothing of the
// seasonally adjusted series plus half the slope of its regression line,
// the seasonal pattern added back.
type theta struct {
	m       int
	profile []float64 // last seasonal cycle by phase t % m; nil when not seasonal
	alpha   float64
	level   float64
	drift   float64 // half the regression slope
	sigma   float64
	n, nFit int
}

func fitTheta(y []float64, m int) *theta {
	n := len(y)
	th := &theta{m: m, n: n, nFit: n}
	x := y
	if m >= 2 && n >= 2*m {
		d := decompose(y, []int{m})
		x = d.adjusted
		th.profile = make([]float64, m)
		for t := n - m; t < n; t++ {
			th.profile[t%m] = d.seasonal[0][t]
		}
	}
	// Regression slope of x on t.
	var st, sx, stt, stx float64
	for t, v := range x {
		ft := float64(t)
		st += ft
		sx += v
		stt += ft * ft
		stx += ft * v
	}
	fn := float64(n)
	th.drift = 0.5 * (fn*stx - st*sx) / (fn*stt - st*st)
	sse := func(p []float64) float64 {
		alpha := 1e-4 + (1-2e-4)*sigmoid(p[0])
		l := x[0]
		var s float64
		for _, v := range x[1:] {
			e := v - l
			s += e * e
			l += alpha * e
		}
		return s
	}
	res, err := optimize.Minimize(optimize.Problem{Func: sse}, []float64{logit(0.3)}, &optimize.Settings{FuncEvaluations: 200}, &optimize.NelderMead{SimplexSize: 1})
	p := []float64{logit(0.3)}
	if res != nil && err == nil || res != nil && !math.IsInf(res.F, 0) {
		p = res.X
	}
	th.alpha = 1e-4 + (1-2e-4)*sigmoid(p[0])
	th.level = x[0]
	for _, v := range x[1:] {
		th.level += th.alpha * (v - th.level)
	}
	th.sigma = math.Sqrt(sse(p) / math.Max(fn-2, 1))
	return th
}

func (th *theta) seasonalAt(t int) float64 {
	if th.profile == nil {
		return 0
	}
	return th.profile[t%th.m]
}

func (th *theta) Name() string { return ModelTheta }

func (th *theta) Predict(h int) (mean, sd []float64) {
	mean = make([]float64, h)
	sd = make([]float64, h)
	a := th.alpha
	adj := (1 - math.Pow(1-a, float64(th.nFit))) / a
	for k := range h {
		mean[k] = th.level + th.drift*(float64(k)+adj) + th.seasonalAt(th.n+k)
		sd[k] = th.sigma * math.Sqrt(1+a*a*float64(k))
	}
	return mean, sd
}

func (th *theta) Observe(y float64) {
	th.level += th.alpha * (y - th.seasonalAt(th.n) - th.level)
	th.n++
}
