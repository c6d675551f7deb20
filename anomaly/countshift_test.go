package anomaly

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
)

// weekly is a weekday-heavy weekly profile (mean 1), as learning events have.
var weekly = [7]float64{1.25, 1.2, 1.15, 1.1, 1.0, 0.6, 0.7}

// dailyCounts is n days of Poisson counts with mean rate(i) and the weekly
// profile, seeded.
func dailyCounts(seed uint64, n int, rate func(i int) float64) []Observation {
	src := rand.NewPCG(seed, 17)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]Observation, n)
	for i := range out {
		v := 0.0
		if l := rate(i) * weekly[i%7]; l > 0 {
			v = distuv.Poisson{Lambda: l, Src: src}.Rand()
		}
		out[i] = Observation{Time: t0.AddDate(0, 0, i), Value: v}
	}
	return out
}

// flaggedDays counts the days from..to-1 with Score ≥ threshold and
// Confidence ≥ 0.5 (what a MEDIUM monitor flags).
func flaggedDays(ds []Detection, from, to int) int {
	n := 0
	for _, d := range ds[from:to] {
		if d.Confidence >= 0.5 && d.Score >= 0.6 {
			n++
		}
	}
	return n
}

// Power and specificity over 20 seeds: a shift lasting a month is found in
// that month in [minF, maxF] seeds, and the ~160 scored days before it are
// flagged in at most two seeds (measured: 2 of 20 at 4.3 a day, both a
// short episode; TestCountShiftFalseAlarmRate bounds the long-run rate).
func TestCountShiftFindsLevelShiftsInSmallCounts(t *testing.T) {
	const n, from, to, seeds = 300, 200, 231, 20
	for _, tc := range []struct {
		name        string
		base, shift float64
		minF, maxF  int // seeds in which the shift month is flagged
	}{
		{"the demo's drop: 4.3 a day, −60 %", 4.3, 0.4, 18, seeds},
		{"a rise: 4 a day, +150 %", 4, 2.5, 18, seeds},
		{"a halving at 20 a day", 20, 0.5, seeds, seeds},
		{"a −20 % drift at 4 a day is noise", 4, 0.8, 0, 1},
		{"no shift at 1 a day", 1, 1, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found, early := 0, 0
			for seed := range uint64(seeds) {
				obs := dailyCounts(seed, n, func(i int) float64 {
					if i >= from && i < to {
						return tc.base * tc.shift
					}
					return tc.base
				})
				ds := run(t, "countshift", obs)
				if flaggedDays(ds, 0, from) > 0 {
					early++
				}
				if flaggedDays(ds, from, to) > 0 {
					found++
				}
			}
			t.Logf("found in %d of %d seeds; flagged before the shift in %d", found, seeds, early)
			assert.LessOrEqual(t, early, 2, "seeds with a flag before the shift")
			assert.GreaterOrEqual(t, found, tc.minF)
			assert.LessOrEqual(t, found, tc.maxF)
		})
	}
}

// A young series: counts climb from 0.5 to 8 a day over ten weeks (as a
// new tenant's learners sign up and reach the end of their courses), stay
// there three weeks, then drop by 60 % for a month and come back — `make
// run`'s demo. The drop is found in nearly every seed; neither the climb
// nor the recovery after the drop is flagged (a mean lagging behind the
// climb read it as a rise and hid the drop).
func TestCountShiftFindsADropAfterAClimb(t *testing.T) {
	const climb, plateau, seeds = 70, 21, 20
	from, to := climb+plateau, climb+plateau+30
	found, other := 0, 0
	for seed := range uint64(seeds) {
		obs := dailyCounts(100+seed, to+60, func(i int) float64 {
			switch {
			case i < climb:
				return 0.5 + 7.5*float64(i)/climb
			case i >= from && i < to:
				return 8 * 0.4
			}
			return 8
		})
		ds := run(t, "countshift", obs)
		if flaggedDays(ds, from, to) > 0 {
			found++
		}
		if flaggedDays(ds, 0, from)+flaggedDays(ds, to+14, len(ds)) > 0 {
			other++
		}
	}
	t.Logf("found in %d of %d seeds; flagged outside the drop (and the 14 days its window needs to leave) in %d", found, seeds, other)
	assert.GreaterOrEqual(t, found, 18)
	assert.LessOrEqual(t, other, 2)
}

// On stationary Poisson counts (with a weekly profile) flags are rare at
// every rate: the negative-binomial tail is calibrated, not a rule of thumb.
func TestCountShiftFalseAlarmRate(t *testing.T) {
	const n = 3000
	for _, rate := range []float64{0.3, 1, 4, 30, 500} {
		ds := run(t, "countshift", dailyCounts(uint64(rate*10), n, func(int) float64 { return rate }))
		got := flaggedDays(ds, 0, n)
		assert.LessOrEqualf(t, got, 6, "rate %v: %d of %d days flagged", rate, got, n)
	}
}

func TestCountShiftWarmUpAndBadValues(t *testing.T) {
	d := NewCountShift(CountShiftConfig{})
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// 14 days of window and 4 weeks of baseline before any confidence;
	// a baseline with few events (here: none) never reaches 0.5.
	for i := range 120 {
		v := []float64{0, -3, math.NaN(), 0}[i%4]
		got := d.Observe(Observation{Time: t0.AddDate(0, 0, i), Value: v})
		require.False(t, math.IsNaN(got.Score), "day %d", i)
		assert.Less(t, got.Score, 0.1, "day %d: nothing happens", i)
		assert.Less(t, got.Confidence, 0.5, "day %d: no events, no confidence", i)
		if i < 14+28-1 {
			assert.Zero(t, got.Confidence, "day %d", i)
			assert.True(t, math.IsNaN(got.Expected), "day %d: no expectation during the warm-up", i)
		}
	}
	// Enough events: confidence reaches 1 with the full 8-week baseline,
	// and the band holds the expected daily rate.
	ds := run(t, "countshift", dailyCounts(3, 100, func(int) float64 { return 4 }))
	assert.Zero(t, ds[14+28-2].Confidence)
	assert.Equal(t, 0.5, ds[14+28-1].Confidence)
	last := ds[len(ds)-1]
	assert.Equal(t, 1.0, last.Confidence)
	assert.InDelta(t, 4, last.Expected, 1)
	assert.LessOrEqual(t, last.Lower, last.Expected)
	assert.GreaterOrEqual(t, last.Upper, last.Expected)
}

// The counts detector is countshift on small counts and the higher of
// countshift and the ensemble on large ones.
func TestCountsDetector(t *testing.T) {
	small := dailyCounts(4, 200, func(int) float64 { return 4 })
	shift, counts := run(t, "countshift", small), run(t, "counts", small)
	for i := range counts {
		require.Truef(t, sameDetection(shift[i], counts[i]), "day %d: under 30 a day the verdict is countshift's", i)
	}

	large := dailyCounts(5, 200, func(int) float64 { return 400 })
	large[150].Value *= 2
	shift, counts, ens := run(t, "countshift", large), run(t, "counts", large), run(t, "ensemble", large)
	for i := range counts {
		want := shift[i]
		if !math.IsNaN(shift[i].Expected) && ens[i].Score > shift[i].Score {
			want = ens[i]
		}
		require.Truef(t, sameDetection(want, counts[i]), "day %d: %+v, want %+v", i, counts[i], want)
	}
	assert.GreaterOrEqual(t, counts[150].Score, 0.6, "the doubled day is flagged")
}
