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
	countTrendT          = 3.0  // standard errors of slope before the baseline is a trend
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
// (quasi-Poisson). A baseline that climbs steadily (a young tenant whose
// learners are still signing up) is also read as a robust line ending at
// its newest week, with a wider band, so neither the climb nor a drop
// after it hides behind a lagging mean (countLevels). The score is the
// smaller tail
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
	// The least surprising reading of the baseline judges the window.
	first := true
	for _, lv := range countLevels(sums) {
		v := countJudge(lv, s, float64(w), float64(c.block))
		if first || v.Score < out.Score {
			out.Detection, out.rate, first = v.Detection, v.rate, false
		}
	}
	out.Confidence = math.Min(math.Min(1, float64(blocks)/float64(c.baseline)), total/countFullEvents)
	return out
}

// countJudge scores a window summing to s over w points against the
// baseline reading lv (blocks of block points); Confidence is left 0.
func countJudge(lv countBaseline, s, w, block float64) countVerdict {
	nb := lv.blocks * block // baseline points the level is worth
	// Gamma(level·blocks/φ + ½, nb) posterior of the scaled daily rate; the
	// scaled window sum is then NB(r, p) with p = nb / (nb + w).
	r := lv.sum*lv.blocks/lv.phi + countPriorShape
	p := nb / (nb + w)
	k := s / lv.phi
	low := nbCDF(k, r, p)                      // P(S ≤ k)
	high := nbSurv(k, r, p)                    // P(S ≥ k)
	tail := math.Min(1, 2*math.Min(low, high)) // two-sided
	surprise := math.Min(-math.Log10(math.Max(tail, 1e-300)), detMaxSurprise)
	var out countVerdict
	out.Score = math.Min(1, surprise/countSurpriseFor1)
	out.rate = lv.sum / block
	// One day's 95% band under the same model (p for a window of one point).
	p1 := nb / (nb + 1)
	out.Expected = out.rate
	out.Lower = math.Floor(lv.phi * nbQuantile(0.025, r, p1))
	out.Upper = math.Ceil(lv.phi * nbQuantile(0.975, r, p1))
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

// countBaseline is what the baseline's block sums say about the window:
// the expected sum of one block, how many blocks of evidence that level is
// worth, and the overdispersion φ of a block sum (≥ 1, Poisson).
type countBaseline struct {
	sum, blocks, phi float64
}

// countLevels reads the level of the block sums ys (oldest first): the
// readings the window is judged against, the least surprising winning. A
// flat level is their mean, worth len(ys) blocks. A climbing baseline (a
// tenant's first months, as learners sign up) is also read as a line: its
// robust Theil–Sen fit at the newest block — never extrapolated into the
// window — worth fewer blocks (1 / the variance factor of a line's end
// point), so a trend widens the band instead of inventing precision. When
// the slope is at least countTrendT standard errors above 0 the line alone
// is the reading (a flat mean would lag behind the climb and take the
// next weeks for a rise, or hide a drop); a smaller positive slope gives
// both readings, so neither the lagging mean nor a noisy line flags alone.
// A falling baseline is read flat: it is most often the drop a monitor
// has just flagged, and its end would take the recovery for a rise. φ is
// estimated from the residuals around each reading (mean absolute
// deviation, robust to one odd week), so a climb is not taken for noise.
func countLevels(ys []float64) []countBaseline {
	n := float64(len(ys))
	var total float64
	for _, y := range ys {
		total += y
	}
	flat := countBaseline{sum: total / n, blocks: n, phi: 1}
	if total <= 0 {
		return []countBaseline{flat}
	}
	med := detMedian(ys)
	dev := make([]float64, len(ys))
	for i, y := range ys {
		dev[i] = y - med
	}
	flat.phi = math.Max(1, sq(countRobustSD(dev))/flat.sum)
	// Theil–Sen: median pairwise slope, median intercept.
	var slopes []float64
	for i := range ys {
		for j := i + 1; j < len(ys); j++ {
			slopes = append(slopes, (ys[j]-ys[i])/float64(j-i))
		}
	}
	b := detMedian(slopes)
	res := make([]float64, len(ys))
	for i, y := range ys {
		res[i] = y - b*float64(i)
	}
	a := detMedian(res)
	for i := range res {
		res[i] -= a
	}
	level := a + b*(n-1)
	if b <= 0 || level <= 0 {
		return []countBaseline{flat}
	}
	sd := countRobustSD(res)
	xbar := (n - 1) / 2
	sxx := n * (n*n - 1) / 12 // Σ (i − x̄)² for i = 0…n−1
	line := countBaseline{sum: level, blocks: 1 / (1/n + sq(n-1-xbar)/sxx), phi: math.Max(1, sq(sd)/flat.sum)}
	if b >= countTrendT*math.Max(sd, math.Sqrt(flat.sum))/math.Sqrt(sxx) {
		return []countBaseline{line}
	}
	return []countBaseline{flat, line}
}

// countRobustSD is the standard deviation of residuals xs from their mean
// absolute value (√(π/2)·mean |x|, a Gaussian's).
func countRobustSD(xs []float64) float64 {
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(x)
	}
	return detMADToSigma * countMean(dev)
}

func sq(x float64) float64 { return x * x }

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
