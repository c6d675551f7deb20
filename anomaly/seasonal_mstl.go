package anomaly

// mstl is the multi-seasonal model: decompose (every season with two full
// cycles, e.g. 24 and 168 for hourly data), forecast the seasonally
// adjusted series with a non-seasonal ETS, add back each seasonal
// component's last cycle.
type mstl struct {
	periods []int
	profile [][]float64 // per period, the last cycle by phase t % m
	inner   *ets
	n       int
}

func fitMSTL(y []float64, seasons []int) *mstl {
	var periods []int
	for _, s := range seasons {
		if len(y) >= 2*s {
			periods = append(periods, s)
		}
	}
	n := len(y)
	d := decompose(y, periods)
	m := &mstl{periods: periods, n: n}
	for i, p := range periods {
		prof := make([]float64, p)
		for t := n - p; t < n; t++ {
			prof[t%p] = d.seasonal[i][t]
		}
		m.profile = append(m.profile, prof)
	}
	m.inner = fitETSAuto(d.adjusted, 0)
	return m
}

func (m *mstl) seasonalAt(t int) float64 {
	var s float64
	for i, p := range m.periods {
		s += m.profile[i][t%p]
	}
	return s
}

func (m *mstl) Name() string { return ModelMSTL }

func (m *mstl) Predict(h int) (mean, sd []float64) {
	mean, sd = m.inner.Predict(h)
	for k := range h {
		mean[k] += m.seasonalAt(m.n + k)
	}
	return mean, sd
}

func (m *mstl) Observe(y float64) {
	m.inner.Observe(y - m.seasonalAt(m.n))
	m.n++
}
