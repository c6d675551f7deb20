package anomaly

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// CountsDetector is the name of the detector for count metrics at day
// grain (Counts); monitors use it by default there.
const CountsDetector = "counts"

// Defaults of the count level-shift detector, for daily counts: the window
// and the baseline are whole weeks, so a weekly pattern cancels out of
// both sums.
const (
	countBlock           = 7  // points per block (a week of days)
	countWindowBlocks    = 2  // blocks summed into the recent window (14 days)
	countBaselineBlocks  = 8  // blocks of baseline before the window (8 weeks)
	countMinBaseline     = 4  // baseline blocks before any score (confidence 0.5)
	countSurpriseFor1    = 6  // −log10 tail probability that scores 1
	countFullEvents      = 50 // baseline events for full confidence
	countPriorShape      = 0.5
	countSmallCountLevel = 30.0 // daily rate under which Gaussian detectors are misspecified
)

// CountShiftConfig tunes the count level-shift detector; the zero value is
// the default (14-day window against the 8 weeks before it).
type CountShiftConfig struct {
	// Block is the points per block (0 → 7); WindowBlocks the blocks in
	// the recent window (0 → 2), BaselineBlocks the blocks of baseline
	// before it (0 → 8).
	Block, WindowBlocks, BaselineBlocks int
}

// CountShift detects level shifts in small counts (events per day: 0, 3,
// 17…), where the Gaussian-residual models of the ensemble see noise. On
// each point it compares the sum of the recent window (the point and the
// ones before it, whole weeks) with the baseline (the weeks before the
// window) under a Poisson-gamma model: the baseline's total gives a gamma
// posterior for the daily rate, so the window's sum is negative-binomial
// — which already accounts for a short baseline. Overdispersion (counts
// more variable than Poisson: campaigns, trends) is estimated robustly from
// the spread of the baseline's weekly sums (mean absolute deviation from
// their median, never below Poisson) and scales the counts down
// (quasi-Poisson). The score is the smaller tail
// probability (drop or rise), two-sided, as −log10 p / 6 capped at 1: a
// score of 0.6 (MEDIUM) means p ≈ 2.5e-4, 0.5 (HIGH) 1e-3, 0.7 (LOW) 6e-5.
// Confidence grows with the baseline: 0 below 4 weeks, 1 at 8 weeks, and
// never above (baseline events)/50, so a tenant whose counts are just
// starting (a handful of events) is not judged on them. It is causal:
// point i's verdict reads points ≤ i.
//
// Values are counts: negative values count as 0, fractions are kept
// (the model is continuous in the count).
type CountShift struct {
	block, window, baseline int
	hist                    []float64 // the last (window+baseline)·block values, oldest first
}

// NewCountShift returns a count level-shift detector.
func NewCountShift(cfg CountShiftConfig) *CountShift {
	c := &CountShift{block: cfg.Block, window: cfg.WindowBlocks, baseline: cfg.BaselineBlocks}
	if c.block <= 0 {
		c.block = countBlock
	}
	if c.window <= 0 {
		c.window = countWindowBlocks
	}
	if c.baseline <= 0 {
		c.baseline = countBaselineBlocks
	}
	return c
}

// countVerdict is the count detector's view of one point.
type countVerdict struct {
	Detection
	rate float64 // the baseline's daily rate; NaN during the warm-up
}

// Observe implements Detector.
func (c *CountShift) Observe(o Observation) Detection { return c.step(o).Detection }

// step consumes one point.
func (c *CountShift) step(o Observation) countVerdict {
	v := o.Value
	if !(v > 0) { // negative, zero or NaN
		v = 0
	}
	limit := (c.window + c.baseline) * c.block
	c.hist = append(c.hist, v)
	if len(c.hist) > limit {
		c.hist = c.hist[len(c.hist)-limit:]
	}
	nan := math.NaN()
	out := countVerdict{Detection: Detection{Expected: nan, Lower: nan, Upper: nan}, rate: nan}
	w := c.window * c.block
	blocks := (len(c.hist) - w) / c.block
	if blocks < countMinBaseline {
		return out
	}
	base := c.hist[len(c.hist)-w-blocks*c.block : len(c.hist)-w]
	sums := make([]float64, blocks)
	var total float64
	for i, x := range base {
		sums[i/c.block] += x
		total += x
	}
	var s float64
	for _, x := range c.hist[len(c.hist)-w:] {
		s += x
	}
	nb := float64(len(base))
	mean := total / float64(blocks)
	phi := 1.0
	if mean > 0 {
		dev := make([]float64, blocks)
		med := detMedian(sums)
		for i, x := range sums {
			dev[i] = math.Abs(x - med)
		}
		sd := detMADToSigma * countMean(dev)
		phi = math.Max(1, sd*sd/mean)
	}
	// Gamma(total/φ + ½, nb) posterior of the scaled daily rate; the scaled
	// window sum is then NB(r, p) with p = nb / (nb + w).
	r := total/phi + countPriorShape
	p := nb / (nb + float64(w))
	k := s / phi
	low := nbCDF(k, r, p)                      // P(S ≤ k)
	high := nbSurv(k, r, p)                    // P(S ≥ k)
	tail := math.Min(1, 2*math.Min(low, high)) // two-sided
	surprise := math.Min(-math.Log10(math.Max(tail, 1e-300)), detMaxSurprise)
	out.Score = math.Min(1, surprise/countSurpriseFor1)
	out.Confidence = math.Min(math.Min(1, float64(blocks)/float64(c.baseline)), total/countFullEvents)
	out.rate = total / nb
	// One day's 95% band under the same model (p for a window of one point).
	p1 := nb / (nb + 1)
	out.Expected = out.rate
	out.Lower = math.Floor(phi * nbQuantile(0.025, r, p1))
	out.Upper = math.Ceil(phi * nbQuantile(0.975, r, p1))
	return out
}

// nbCDF is P(X ≤ k) of the negative binomial (failures before r successes
// of probability p), continuous in k ≥ 0.
func nbCDF(k, r, p float64) float64 {
	return mathext.RegIncBeta(r, k+1, p)
}

// nbSurv is P(X ≥ k), continuous in k; 1 at k ≤ 0.
func nbSurv(k, r, p float64) float64 {
	if k <= 0 {
		return 1
	}
	return mathext.RegIncBeta(k, r, 1-p)
}

// nbQuantile is the smallest integer k with P(X ≤ k) ≥ q (bisection).
func nbQuantile(q, r, p float64) float64 {
	mean := r * (1 - p) / p
	lo, hi := 0.0, math.Ceil(mean+20*math.Sqrt(mean/p)+20)
	for lo < hi {
		mid := math.Floor((lo + hi) / 2)
		if nbCDF(mid, r, p) >= q {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// countMean is the mean of xs.
func countMean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Counts is the detector for count metrics at day grain: the count
// level-shift detector judges a series whose baseline rate is small
// (under 30 a day, where a Gaussian residual model mistakes Poisson noise
// for surprise and cannot see a level shift); on larger counts the default
// ensemble runs beside it and the higher score wins, so spikes and
// seasonal breaks are still seen. Both models observe every point, so the
// switch between them stays causal.
type Counts struct {
	shift *CountShift
	ens   *Ensemble
}

// NewCounts returns the count-metric detector.
func NewCounts() *Counts {
	return &Counts{shift: NewCountShift(CountShiftConfig{}), ens: NewEnsemble(EnsembleConfig{})}
}

// Observe implements Detector.
func (c *Counts) Observe(o Observation) Detection {
	cv := c.shift.step(o)
	ev := c.ens.Observe(o)
	if math.IsNaN(cv.rate) || cv.rate < countSmallCountLevel || cv.Score >= ev.Score {
		return cv.Detection
	}
	return ev
}
