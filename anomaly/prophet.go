package anomaly

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat/distuv"
)

// Prophet-style model settings (Taylor & Letham 2018, prophet's defaults
// where they carry over to step-indexed series).
const (
	minProphet = 24
	// prophetChangepoints is the number of potential trend changepoints,
	// evenly spread over the first prophetChangepointRange of the history.
	prophetChangepoints     = 25
	prophetChangepointRange = 0.8
	// prophetTau is the scale of the Laplace prior on the changepoint
	// deltas (changepoint_prior_scale): smaller is a stiffer trend.
	prophetTau = 0.05
	// prophetSeasonScale is the sd of the normal prior on the Fourier
	// coefficients (seasonality_prior_scale).
	prophetSeasonScale = 10.0
	// prophetMaxOrder caps the Fourier order of a season (order P/2 is a
	// free pattern, lower is smoother).
	prophetMaxOrder = 10
	// prophetSims is the number of simulated trend futures behind the
	// interval width; prophetSeed makes them the same on every run.
	prophetSims = 300
	prophetSeed = 20
	// l1Smooth smooths |δ| as sqrt(δ²+ε²) so the objective has a gradient.
	l1Smooth = 1e-6
)

// prophet is y(t) = k·t + m + Σ δ_j (t − s_j)₊ + Σ Fourier terms + noise,
// on y scaled by max|y| and t scaled to [0, 1] over the fitted history.
type prophet struct {
	seasons []int
	orders  []int
	scale   float64 // y scale
	tScale  float64 // steps per unit of t
	cps     []float64
	theta   []float64 // m, k, δ…, Fourier β…
	sigma   float64   // noise sd in scaled units
	n       int       // observations absorbed (the next step's index)
}

func fitProphet(y []float64, seasons []int) *prophet {
	return fitProphetRange(y, seasons, prophetChangepointRange)
}

// fitProphetRange is fitProphet with potential changepoints spread over the
// first cpRange of the history.
func fitProphetRange(y []float64, seasons []int, cpRange float64) *prophet {
	n := len(y)
	p := &prophet{seasons: seasons, n: n, tScale: float64(n - 1)}
	for _, s := range seasons {
		p.orders = append(p.orders, min(s/2, prophetMaxOrder))
	}
	for _, v := range y {
		p.scale = math.Max(p.scale, math.Abs(v))
	}
	if p.scale == 0 {
		p.scale = 1
	}
	nCP := min(prophetChangepoints, int(float64(n)*cpRange)-1)
	last := math.Floor(float64(n-1) * cpRange)
	for j := 1; j <= nCP; j++ {
		p.cps = append(p.cps, math.Round(float64(j)*last/float64(nCP))/p.tScale)
	}
	X := make([][]float64, n)
	ys := make([]float64, n)
	for i := range n {
		X[i] = p.features(i)
		ys[i] = y[i] / p.scale
	}
	dim := len(X[0]) + 1 // + log σ
	nCPs := len(p.cps)
	x0 := make([]float64, dim)
	x0[1] = (ys[n-1] - ys[0]) // k over t in [0, 1]
	x0[0] = ys[0]
	x0[dim-1] = math.Log(math.Max(math.Sqrt(variance(ys)), 1e-3))
	// The likelihood needs only the Gram matrix X'X, X'y and y'y: each
	// evaluation costs O(p²) instead of O(n·p).
	pdim := dim - 1
	xtx := make([]float64, pdim*pdim)
	xty := make([]float64, pdim)
	var yty float64
	for i := range n {
		for a, va := range X[i] {
			xty[a] += va * ys[i]
			row := xtx[a*pdim : (a+1)*pdim]
			for b, vb := range X[i] {
				row[b] += va * vb
			}
		}
		yty += ys[i] * ys[i]
	}
	gx := make([]float64, pdim) // X'X·θ
	obj := func(x []float64, grad []float64) float64 {
		theta, logSigma := x[:pdim], x[pdim]
		sigma := math.Exp(logSigma)
		sse := yty
		for a := range pdim {
			var v float64
			row := xtx[a*pdim : (a+1)*pdim]
			for b, t := range theta {
				v += row[b] * t
			}
			gx[a] = v
			sse += theta[a]*v - 2*theta[a]*xty[a]
		}
		sse = math.Max(sse, 0)
		s2 := sigma * sigma
		f := float64(n)*logSigma + sse/(2*s2) + s2/(2*0.25) + (theta[0]*theta[0]+theta[1]*theta[1])/(2*25)
		for j := 2; j < 2+nCPs; j++ {
			f += math.Sqrt(theta[j]*theta[j]+l1Smooth) / prophetTau
		}
		for j := 2 + nCPs; j < pdim; j++ {
			f += theta[j] * theta[j] / (2 * prophetSeasonScale * prophetSeasonScale)
		}
		if grad != nil {
			for a := range pdim {
				grad[a] = (gx[a] - xty[a]) / s2
			}
			grad[0] += theta[0] / 25
			grad[1] += theta[1] / 25
			for j := 2; j < 2+nCPs; j++ {
				grad[j] += theta[j] / math.Sqrt(theta[j]*theta[j]+l1Smooth) / prophetTau
			}
			for j := 2 + nCPs; j < pdim; j++ {
				grad[j] += theta[j] / (prophetSeasonScale * prophetSeasonScale)
			}
			grad[pdim] = float64(n) - sse/s2 + s2/0.25
		}
		return f
	}
	prob := optimize.Problem{
		Func: func(x []float64) float64 { return obj(x, nil) },
		Grad: func(g, x []float64) { obj(x, g) },
	}
	res, err := optimize.Minimize(prob, x0, &optimize.Settings{
		MajorIterations:   2000,
		GradientThreshold: 1e-7,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-9, Relative: 1e-10, Iterations: 50},
	}, &optimize.LBFGS{})
	x := x0
	if res != nil && (err == nil || !math.IsNaN(res.F)) {
		x = res.X
	}
	p.theta = x[:dim-1]
	p.sigma = math.Exp(x[dim-1])
	return p
}

// features is the design row of step i: 1, t, (t − s_j)₊…, then sin and cos
// pairs of every season.
func (p *prophet) features(i int) []float64 {
	t := float64(i) / p.tScale
	row := []float64{1, t}
	for _, s := range p.cps {
		row = append(row, math.Max(0, t-s))
	}
	for si, period := range p.seasons {
		for k := 1; k <= p.orders[si]; k++ {
			a := 2 * math.Pi * float64(k) * float64(i) / float64(period)
			row = append(row, math.Sin(a), math.Cos(a))
		}
	}
	return row
}

func (p *prophet) Name() string { return ModelProphet }

// Predict adds prophet's trend uncertainty: future changepoints arrive at
// the history's rate with Laplace deltas of the fitted deltas' mean size;
// the variance of the simulated trends plus the noise variance is the
// forecast variance.
func (p *prophet) Predict(h int) (mean, sd []float64) {
	mean = make([]float64, h)
	sd = make([]float64, h)
	for k := range h {
		row := p.features(p.n + k)
		var v float64
		for j, x := range row {
			v += x * p.theta[j]
		}
		mean[k] = v * p.scale
	}
	var lambda float64
	for j := range p.cps {
		lambda += math.Abs(p.theta[2+j])
	}
	lambda = lambda/float64(max(len(p.cps), 1)) + 1e-8
	t0 := float64(p.n-1) / p.tScale
	tEnd := float64(p.n-1+h) / p.tScale
	rate := float64(len(p.cps)) // changepoints per unit of t in the history
	src := rand.New(rand.NewPCG(prophetSeed, uint64(h)))
	pois := distuv.Poisson{Lambda: rate * (tEnd - t0), Src: src}
	sum := make([]float64, h)
	sumSq := make([]float64, h)
	for range prophetSims {
		count := int(pois.Rand())
		type change struct{ at, delta float64 }
		changes := make([]change, count)
		for c := range changes {
			u := src.Float64() - 0.5
			changes[c] = change{
				at:    t0 + src.Float64()*(tEnd-t0),
				delta: -lambda * math.Copysign(math.Log(1-2*math.Abs(u)), u),
			}
		}
		for k := range h {
			t := float64(p.n+k) / p.tScale
			var dev float64
			for _, c := range changes {
				if t > c.at {
					dev += c.delta * (t - c.at)
				}
			}
			sum[k] += dev
			sumSq[k] += dev * dev
		}
	}
	for k := range h {
		mu := sum[k] / prophetSims
		trendVar := math.Max(0, sumSq[k]/prophetSims-mu*mu)
		sd[k] = math.Sqrt(p.sigma*p.sigma+trendVar) * p.scale
	}
	return mean, sd
}

// Observe moves the model one step on; the fitted curve does not change.
func (p *prophet) Observe(float64) { p.n++ }
