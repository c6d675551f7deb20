package nab

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// minutes returns n timestamps one minute apart.
func minutes(n int) []time.Time {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]time.Time, n)
	for i := range out {
		out[i] = t0.Add(time.Duration(i) * time.Minute)
	}
	return out
}

// sig is NAB's scaled sigmoid written out: 2/(1+e^(5x)) − 1 = tanh(−5x/2).
func sig(x float64) float64 { return math.Tanh(-2.5 * x) }

func TestScaledSigmoidAndProbation(t *testing.T) {
	assert.InDelta(t, 0.98661, ScaledSigmoid(-1), 1e-5)
	assert.InDelta(t, 0.84828, ScaledSigmoid(-0.5), 1e-5)
	assert.Equal(t, 0.0, ScaledSigmoid(0))
	assert.InDelta(t, -0.98661, ScaledSigmoid(1), 1e-5)
	assert.Equal(t, -1.0, ScaledSigmoid(3.01))
	for n, want := range map[int]int{20: 3, 100: 15, 4032: 604, 5000: 750, 22695: 750} {
		assert.Equal(t, want, ProbationRows(n), "rows %d", n)
	}
}

// One file of 20 rows, probation 3 rows, a window over rows 10…13 (width 4).
func TestScoreHandMade(t *testing.T) {
	ts := minutes(20)
	win := []Window{{Start: ts[10], End: ts[13]}}
	scores := make([]float64, 20)
	scores[11] = 0.9 // inside the window, 3 rows before its end
	scores[16] = 0.8 // after the window: 3 rows past its end
	scores[1] = 1.0  // in probation: never counts
	files := []File{{Name: "a.csv", Timestamps: ts, Scores: scores, Windows: win}}

	maxTP := math.Tanh(2.5)
	tpAt11 := sig(-3.0/4) / maxTP // position −(13−11+1)/4
	// The null detector (0.5 everywhere) detects all 17 scorable rows:
	// the window's first row (+1), rows 3…9 before any window (−FP each)
	// and rows 14…19 after it (FP × sigmoid of distance / (width − 1)).
	nullRaw := func(fp, fn float64) float64 {
		s := 1 - 7*fp
		for i := 14; i <= 19; i++ {
			s += fp * sig(float64(i-13)/3)
		}
		return math.Max(s, -fn) // or nothing detected: −FN
	}

	for _, tc := range []struct {
		p         Profile
		threshold float64
		raw       float64
		tp, fp    int
	}{
		// Standard: the 0.8 detection costs 0.11 × sig(1); stopping at 0.9 is best.
		{Profile{Name: "standard", TP: 1, FP: 0.11, FN: 1}, 0.9, tpAt11, 1, 0},
		// Every detection outside a window costs, whatever the weights.
		{Profile{Name: "low-FP", TP: 1, FP: 0.22, FN: 1}, 0.9, tpAt11, 1, 0},
		// A window is worth as much as it was; the null baseline moves.
		{Profile{Name: "low-FN", TP: 1, FP: 0.11, FN: 2}, 0.9, tpAt11, 1, 0},
	} {
		t.Run(tc.p.Name, func(t *testing.T) {
			r, err := Score(files, tc.p)
			require.NoError(t, err)
			assert.Equal(t, tc.threshold, r.Threshold)
			assert.InDelta(t, tc.raw, r.Raw, 1e-12)
			assert.Equal(t, tc.tp, r.TP)
			assert.Equal(t, tc.fp, r.FP)
			assert.Equal(t, 1.0, r.Perfect)
			assert.InDelta(t, nullRaw(tc.p.FP, tc.p.FN), r.Null, 1e-12)
			assert.InDelta(t, 100*(tc.raw-r.Null)/(1-r.Null), r.Score, 1e-9)
		})
	}
}

// Two files share one threshold: the best total, not each file's best.
func TestScoreSharedThreshold(t *testing.T) {
	ts := minutes(40) // probation 6 rows
	a := make([]float64, 40)
	a[20] = 0.6 // first row of a's window 20…29 (width 10): worth +1
	b := make([]float64, 40)
	b[30] = 0.7 // b has no window: a false positive worth −0.11
	files := []File{
		{Name: "a.csv", Timestamps: ts, Scores: a, Windows: []Window{{Start: ts[20], End: ts[29]}}},
		{Name: "b.csv", Timestamps: ts, Scores: b},
	}
	r, err := Score(files, Profile{Name: "standard", TP: 1, FP: 0.11, FN: 1})
	require.NoError(t, err)
	assert.Equal(t, 0.6, r.Threshold)
	assert.InDelta(t, 1-0.11, r.Raw, 1e-12)
	assert.Equal(t, 1, r.TP)
	assert.Equal(t, 1, r.FP)
	// 34 scorable rows a file: a has 24 outside its window, b 34, one detected.
	assert.Equal(t, 24+34-1, r.TN)
	assert.Equal(t, 9, r.FN)
}

// ScoreAt at the optimised threshold is Score; at another threshold it
// counts exactly the rows at or above it.
func TestScoreAt(t *testing.T) {
	ts := minutes(40)
	a := make([]float64, 40)
	a[20] = 0.6
	b := make([]float64, 40)
	b[30] = 0.7
	files := []File{
		{Name: "a.csv", Timestamps: ts, Scores: a, Windows: []Window{{Start: ts[20], End: ts[29]}}},
		{Name: "b.csv", Timestamps: ts, Scores: b},
	}
	p := Profile{Name: "standard", TP: 1, FP: 0.11, FN: 1}
	best, err := Score(files, p)
	require.NoError(t, err)
	for _, tc := range []struct {
		threshold float64
		raw       float64
		tp, fp    int
	}{
		{best.Threshold, best.Raw, 1, 1},
		{0.65, -1 - 0.11, 0, 1}, // only b's false positive: the window is missed
		{0.8, -1, 0, 0},         // nothing detected
	} {
		r, err := ScoreAt(files, p, tc.threshold)
		require.NoError(t, err)
		assert.InDelta(t, tc.raw, r.Raw, 1e-12, "threshold %v", tc.threshold)
		assert.Equal(t, tc.tp, r.TP)
		assert.Equal(t, tc.fp, r.FP)
		assert.Equal(t, best.Null, r.Null)
		assert.InDelta(t, 100*(tc.raw-r.Null)/(r.Perfect-r.Null), r.Score, 1e-9)
		if tc.threshold == best.Threshold {
			assert.InDelta(t, best.Score, r.Score, 1e-12)
		}
	}
}

func TestScoreErrors(t *testing.T) {
	ts := minutes(10)
	_, err := Score([]File{{Name: "x.csv", Timestamps: ts, Scores: make([]float64, 9)}}, Profile{TP: 1, FP: 0.11, FN: 1})
	assert.ErrorContains(t, err, "10 timestamps but 9 scores")
	_, err = Score([]File{{Name: "x.csv", Timestamps: ts, Scores: make([]float64, 10),
		Windows: []Window{{Start: ts[2].Add(time.Second), End: ts[5]}}}}, Profile{TP: 1, FP: 0.11, FN: 1})
	assert.ErrorContains(t, err, "must be timestamps of rows")
}
