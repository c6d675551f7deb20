package anomaly

import (
	"math"
	"slices"
)

// seasonalCycles is the number of cycles a seasonal component averages
// over (centred inside the history, the last ones at its end): a week of
// days for a daily season, and every cycle of a weekly one in M4's 29–40
// days. Fewer cycles follow a changing pattern faster and are noisier.
const seasonalCycles = 7

// decomposition is an additive multi-seasonal decomposition
// y = Σ seasonal[i] + trend + remainder, MSTL-style: each seasonal
// component in turn (shortest period first, two passes) is the average of
// its detrended cycle-subseries over nearby cycles.
type decomposition struct {
	periods  []int
	seasonal [][]float64 // one per period, len(y) each
	adjusted []float64   // y minus every seasonal component
	trend    []float64   // moving average of adjusted over the longest period
}

// decompose decomposes y over periods (ascending; each needs two cycles in y).
func decompose(y []float64, periods []int) decomposition {
	return decomposeCycles(y, periods, seasonalCycles)
}

// decomposeCycles is decompose averaging each phase over `cycles` cycles.
func decomposeCycles(y []float64, periods []int, cycles int) decomposition {
	n := len(y)
	d := decomposition{periods: periods, adjusted: slices.Clone(y), seasonal: make([][]float64, len(periods))}
	for i := range periods {
		d.seasonal[i] = make([]float64, n)
	}
	for range 2 {
		for i, m := range periods {
			x := make([]float64, n)
			for t := range n {
				x[t] = d.adjusted[t] + d.seasonal[i][t]
			}
			tr := movingAverage(x, m)
			s := cycleAverage(x, tr, m, cycles)
			for t := range n {
				d.adjusted[t] = x[t] - s[t]
			}
			d.seasonal[i] = s
		}
	}
	longest := 1
	if len(periods) > 0 {
		longest = periods[len(periods)-1]
	}
	d.trend = movingAverage(d.adjusted, longest)
	return d
}

// strength is the seasonal strength max(0, 1 − var(R)/var(S+R)) of Wang,
// Smith & Hyndman (2006) for all seasonal components together; above
// about 0.64 a seasonal difference is worth taking.
func (d decomposition) strength() float64 {
	n := len(d.adjusted)
	r := make([]float64, n)
	sr := make([]float64, n)
	for t := range n {
		r[t] = d.adjusted[t] - d.trend[t]
		sr[t] = r[t]
		for i := range d.periods {
			sr[t] += d.seasonal[i][t]
		}
	}
	vsr := variance(sr)
	if vsr == 0 {
		return 0
	}
	return math.Max(0, 1-variance(r)/vsr)
}

// movingAverage is the centred moving average of x over m points (2×m when
// m is even, so it is centred), extended linearly over the half-windows at
// both ends with the slope of the nearest full cycle.
func movingAverage(x []float64, m int) []float64 {
	n := len(x)
	out := make([]float64, n)
	if m <= 1 || n < m+1 {
		copy(out, x)
		return out
	}
	half := m / 2
	lo, hi := half, n-1-half // the range with a full window
	for t := lo; t <= hi; t++ {
		if m%2 == 1 {
			var s float64
			for j := t - half; j <= t+half; j++ {
				s += x[j]
			}
			out[t] = s / float64(m)
		} else {
			s := 0.5*x[t-half] + 0.5*x[t+half]
			for j := t - half + 1; j < t+half; j++ {
				s += x[j]
			}
			out[t] = s / float64(m)
		}
	}
	span := min(m, hi-lo)
	if span == 0 {
		for t := range n {
			out[t] = out[lo]
		}
		return out
	}
	startSlope := (out[lo+span] - out[lo]) / float64(span)
	endSlope := (out[hi] - out[hi-span]) / float64(span)
	for t := 0; t < lo; t++ {
		out[t] = out[lo] - startSlope*float64(lo-t)
	}
	for t := hi + 1; t < n; t++ {
		out[t] = out[hi] + endSlope*float64(t-hi)
	}
	return out
}

// cycleAverage is the seasonal component of x with trend tr: for each t,
// the mean of x−tr at the same phase over the `cycles` cycles nearest to
// t's (fewer near the ends is avoided by shifting the window inside the
// history), centred so each window of m phases sums to about zero.
func cycleAverage(x, tr []float64, m, cycles int) []float64 {
	n := len(x)
	out := make([]float64, n)
	full := n / m // cycles available at every phase (at least)
	w := min(cycles, max(full, 1))
	for t := range n {
		phase := t % m
		count := (n-1-phase)/m + 1 // occurrences of this phase
		k := t / m
		first := max(0, k-w/2)
		if first+w > count {
			first = max(0, count-w)
		}
		last := min(count, first+w)
		var s float64
		for c := first; c < last; c++ {
			j := phase + c*m
			s += x[j] - tr[j]
		}
		out[t] = s / float64(last-first)
	}
	// Centre: each cycle's seasonal pattern sums to about zero.
	avg := movingAverage(out, m)
	for t := range n {
		out[t] -= avg[t]
	}
	return out
}

// seasonalNaive repeats the last season; its errors add up one season at a
// time.
type seasonalNaive struct {
	y     []float64
	m     int
	sigma float64 // root mean square of the in-sample seasonal differences
}

func fitSeasonalNaive(y []float64, seasons []int) *seasonalNaive {
	m := 1
	if len(seasons) > 0 {
		m = seasons[0]
	}
	sn := &seasonalNaive{y: y, m: m}
	var ss float64
	var k int
	for t := m; t < len(y); t++ {
		d := y[t] - y[t-m]
		ss += d * d
		k++
	}
	if k > 0 {
		sn.sigma = math.Sqrt(ss / float64(k))
	}
	return sn
}

func (s *seasonalNaive) Name() string { return ModelSeasonalNaive }

func (s *seasonalNaive) Predict(h int) (mean, sd []float64) {
	n := len(s.y)
	mean = make([]float64, h)
	sd = make([]float64, h)
	for k := range h {
		mean[k] = s.y[n-s.m+k%s.m]
		sd[k] = s.sigma * math.Sqrt(float64(k/s.m+1))
	}
	return mean, sd
}

func (s *seasonalNaive) Observe(y float64) { s.y = append(s.y, y) }

// variance is the population variance of x.
func variance(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var mu float64
	for _, v := range x {
		mu += v
	}
	mu /= float64(len(x))
	var s float64
	for _, v := range x {
		s += (v - mu) * (v - mu)
	}
	return s / float64(len(x))
}

// DetectSeasons finds the seasonality of a series with no time grain
// (integer steps): the candidate period among 4, 7, 12, 24 and 52 whose
// autocorrelation, once its own moving average is taken off, is highest and at least
// minSeasonalACF, with three cycles in the history. A period of 24 is read
// as hourly data and, with two weeks of history, brings the hourly grain's
// weekly 168 too (as --grain hour would). Nil when nothing qualifies.
func DetectSeasons(y []float64) []int {
	const minSeasonalACF = 0.3
	detrended := func(m int) []float64 {
		tr := movingAverage(y, m)
		x := make([]float64, len(y))
		for i := range y {
			x[i] = y[i] - tr[i]
		}
		return x
	}
	best, bestACF := 0, minSeasonalACF
	for _, m := range []int{4, 7, 12, 24, 52} {
		if len(y) < 3*m {
			continue
		}
		if r := acf(detrended(m), m); r >= bestACF {
			best, bestACF = m, r
		}
	}
	switch {
	case best == 0:
		return nil
	case best == 24 && len(y) >= 2*168:
		return SeasonsForGrain("hour")
	}
	return []int{best}
}

// acf is the sample autocorrelation of x at lag k.
func acf(x []float64, k int) float64 {
	n := len(x)
	if k >= n {
		return 0
	}
	var mu float64
	for _, v := range x {
		mu += v
	}
	mu /= float64(n)
	var num, den float64
	for t := range n {
		den += (x[t] - mu) * (x[t] - mu)
		if t >= k {
			num += (x[t] - mu) * (x[t-k] - mu)
		}
	}
	if den == 0 {
		return 0
	}
	return num / den
}
