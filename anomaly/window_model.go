package anomaly

import "math"

// windowModel judges the recent window's shape rather than the last point:
// the mean and the spread of the last few points, each standardised by its
// own robust history. A series that turns flat, starts to oscillate or
// settles on a new level changes these summaries before any single point is
// extreme.
type windowModel struct {
	buf        []float64
	pos, n     int
	mean, sprd detFeature
}

// Defaults of the window model's feature tracking.
const (
	windowFeatureRate = 0.005 // weight of a new summary in its centre and scale
	windowFeatureWarm = 50    // summaries seen before one is judged
)

// detFeature tracks one summary's typical value and deviation: a centre
// that moves by clipped steps (an outlier nudges it, a new level moves it)
// and a robust scale.
type detFeature struct {
	center float64
	scale  detRobustScale
	n      int
}

func newWindowModel(k int) *windowModel {
	return &windowModel{buf: make([]float64, k),
		mean: detFeature{scale: detRobustScale{rate: windowFeatureRate}},
		sprd: detFeature{scale: detRobustScale{rate: windowFeatureRate}}}
}

// z standardises x by the feature's history, then learns x.
func (f *detFeature) z(x float64) float64 {
	f.n++
	if f.n == 1 {
		f.center = x
		return 0
	}
	r := x - f.center
	z := detZ(r, f.scale.sigma(), f.center)
	if f.n < windowFeatureWarm {
		z = 0
	}
	f.scale.update(r)
	rate := math.Max(windowFeatureRate, 1/float64(f.n))
	c := math.Max(-3*f.scale.sigma(), math.Min(3*f.scale.sigma(), r))
	f.center += rate * c
	return z
}

func (m *windowModel) step(o Observation) detOut {
	m.buf[m.pos] = o.Value
	m.pos = (m.pos + 1) % len(m.buf)
	m.n++
	out := detOut{expected: math.NaN()}
	if m.n < len(m.buf) {
		return out
	}
	mu := 0.0
	for _, v := range m.buf {
		mu += v
	}
	mu /= float64(len(m.buf))
	sd := 0.0
	for _, v := range m.buf {
		sd += math.Abs(v - mu)
	}
	sd /= float64(len(m.buf))
	zm := m.mean.z(mu)
	zs := m.sprd.z(math.Log(sd + 1e-9*math.Abs(mu) + 1e-12))
	out.surprise = math.Max(detTailSurprise(zm), detTailSurprise(zs))
	return out
}
