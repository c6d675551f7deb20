package anomaly

import (
	"math"
	"sort"
	"time"
)

// Numeric building blocks of the detectors. Names start with det so they
// cannot clash with the forecasters' helpers in the same package.

const (
	// detStepSample is how many leading time gaps decide a series' step.
	detStepSample = 32
	// detMaxSurprise caps a surprise (−log10 of a tail probability): beyond
	// 1e-30 every point is equally impossible and float64 erfc underflows.
	detMaxSurprise = 30.0
	// detMADToSigma turns a mean absolute deviation into a normal σ.
	detMADToSigma = 1.2533141373155001 // √(π/2)
)

// detStep learns a series' sampling step from its first time gaps, so the
// seasonal slot of a timestamp is known without looking ahead.
type detStep struct {
	last time.Time
	gaps []float64
	step float64 // seconds; 0 until the first gap
}

// observe records t and returns the current step estimate in seconds.
func (s *detStep) observe(t time.Time) float64 {
	if !s.last.IsZero() && len(s.gaps) < detStepSample {
		if g := t.Sub(s.last).Seconds(); g > 0 {
			s.gaps = append(s.gaps, g)
			s.step = detMedian(s.gaps)
		}
	}
	s.last = t
	return s.step
}

// detMedian is the median of xs (xs is not modified).
func detMedian(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	c := append([]float64(nil), xs...)
	sort.Float64s(c)
	m := len(c) / 2
	if len(c)%2 == 1 {
		return c[m]
	}
	return (c[m-1] + c[m]) / 2
}

// detTailSurprise is −log10 of the two-sided normal tail probability of z,
// capped at detMaxSurprise.
func detTailSurprise(z float64) float64 {
	z = math.Abs(z)
	if math.IsNaN(z) {
		return 0
	}
	p := math.Erfc(z / math.Sqrt2)
	if p <= 1e-30 || z > 11 {
		// log10 erfc(x) ≈ −x²/ln10 − log10(x√π) for large x.
		x := z / math.Sqrt2
		s := x*x/math.Ln10 + math.Log10(x*math.Sqrt(math.Pi))
		return math.Min(s, detMaxSurprise)
	}
	return math.Min(-math.Log10(p), detMaxSurprise)
}

// detRobustScale tracks the typical absolute size of a residual with an
// exponentially weighted mean of |r|, clipping each update so one outlier
// cannot inflate the scale that judges the next one.
type detRobustScale struct {
	rate float64 // weight of a new residual
	mad  float64 // mean absolute deviation
	n    int
}

// sigma is the current scale as a normal σ.
func (s *detRobustScale) sigma() float64 { return s.mad * detMADToSigma }

// update folds residual r in.
func (s *detRobustScale) update(r float64) {
	a := math.Abs(r)
	s.n++
	if s.n == 1 {
		s.mad = a
		return
	}
	if s.mad > 0 && a > 6*s.mad {
		a = 6 * s.mad
	}
	rate := s.rate
	if w := 1 / float64(s.n); w > rate {
		rate = w // a plain mean until the window fills
	}
	s.mad += rate * (a - s.mad)
}

// detZ standardises residual r by scale, with a floor so a perfectly flat
// history does not make every rounding error infinitely surprising.
func detZ(r, sigma, level float64) float64 {
	floor := 1e-6*math.Abs(level) + 1e-9
	return r / math.Max(sigma, floor)
}

// detScore maps a surprise (≥ 0) to a score in [0, 1): strictly increasing,
// so a threshold on scores is a threshold on surprises.
func detScore(surprise float64) float64 {
	if surprise <= 0 {
		return 0
	}
	return surprise / (surprise + 5)
}

// detBand returns the 95% band around expected for a residual scale.
func detBand(expected, sigma float64) (float64, float64) {
	return expected - 1.96*sigma, expected + 1.96*sigma
}

// detWarm is a confidence that grows linearly to 1 over warm points.
func detWarm(n, warm int) float64 {
	if n >= warm {
		return 1
	}
	return float64(n) / float64(warm)
}
