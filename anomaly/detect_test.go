package anomaly

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// synthetic is a 5-minute series with a daily cycle and noise, a spike at
// spikeAt and a level shift from shiftAt on.
func synthetic(n, spikeAt, shiftAt int) []Observation { return syntheticAmp(n, spikeAt, shiftAt, 20) }

// syntheticAmp is synthetic with a daily cycle of amplitude amp.
func syntheticAmp(n, spikeAt, shiftAt int, amp float64) []Observation {
	rng := rand.New(rand.NewPCG(7, 11))
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	out := make([]Observation, n)
	for i := range out {
		ts := t0.Add(time.Duration(i) * 5 * time.Minute)
		day := float64(ts.Hour()*60+ts.Minute()) / 1440
		v := 50 + amp*math.Sin(2*math.Pi*day) + rng.NormFloat64()*2
		if i == spikeAt {
			v += 40
		}
		if shiftAt > 0 && i >= shiftAt {
			v += 25
		}
		out[i] = Observation{Time: ts, Value: v}
	}
	return out
}

func run(t *testing.T, name string, obs []Observation) []Detection {
	t.Helper()
	d, err := NewDetector(name)
	require.NoError(t, err)
	out := make([]Detection, len(obs))
	for i, o := range obs {
		out[i] = d.Observe(o)
	}
	return out
}

// sameDetection compares two verdicts, NaN equal to NaN.
func sameDetection(a, b Detection) bool {
	eq := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	return eq(a.Score, b.Score) && eq(a.Confidence, b.Confidence) && eq(a.Expected, b.Expected) &&
		eq(a.Lower, b.Lower) && eq(a.Upper, b.Upper)
}

// Scores of the first k rows must not change when later rows are appended,
// and the same input must give the same output.
func TestDetectorsAreCausalAndDeterministic(t *testing.T) {
	full := synthetic(3000, 2200, 2600)
	for _, name := range DetectorNames() {
		t.Run(name, func(t *testing.T) {
			all := run(t, name, full)
			again := run(t, name, full)
			for _, k := range []int{1, 150, 1000, 2201, 2650} {
				prefix := run(t, name, full[:k])
				for i := range prefix {
					require.Truef(t, sameDetection(prefix[i], all[i]), "row %d of a %d-row prefix: %+v, with later rows %+v", i, k, prefix[i], all[i])
				}
			}
			for i := range all {
				require.Truef(t, sameDetection(all[i], again[i]), "row %d differs between two runs", i)
				assert.GreaterOrEqual(t, all[i].Score, 0.0)
				assert.LessOrEqual(t, all[i].Score, 1.0)
				assert.GreaterOrEqual(t, all[i].Confidence, 0.0)
				assert.LessOrEqual(t, all[i].Confidence, 1.0)
			}
		})
	}
}

// The planted spike and level shift get the highest scores after warm-up.
func TestDetectorsFindPlantedAnomalies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		targets []int // each must be caught within within rows
		within  int
		amp     float64 // the daily cycle's amplitude
	}{
		{"ensemble", []int{2200, 2600}, 12, 20},
		{"seasonal", []int{2200, 2600}, 12, 20},
		{"ar", []int{2200, 2600}, 12, 20},
		{"context", []int{2600}, 60, 20},
		{"prophet", []int{2200, 2600}, 12, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			det := run(t, tc.name, syntheticAmp(3000, 2200, 2600, tc.amp))
			quiet := 0.0 // the highest score away from the planted points
			for i := 500; i < len(det); i++ {
				near := false
				for _, at := range tc.targets {
					near = near || (i >= at && i < at+60)
				}
				if !near {
					quiet = math.Max(quiet, det[i].Score)
				}
			}
			for _, at := range tc.targets {
				best := 0.0
				for i := at; i < at+tc.within; i++ {
					best = math.Max(best, det[i].Score)
				}
				assert.Greaterf(t, best, quiet, "the anomaly at row %d scores %.3f, a quiet row %.3f", at, best, quiet)
			}
		})
	}
}

// The changepoint detector is noisier: it must catch the level shift within
// 60 rows at a score few noise rows reach.
func TestBOCPDFindsLevelShift(t *testing.T) {
	det := run(t, "bocpd", syntheticAmp(3000, -1, 2600, 0))
	best := 0.0
	for i := 2600; i < 2660; i++ {
		best = math.Max(best, det[i].Score)
	}
	above := 0
	for i := 500; i < 2600; i++ {
		if det[i].Score >= best {
			above++
		}
	}
	assert.Greater(t, best, 0.3)
	assert.LessOrEqualf(t, above, 3, "%d noise rows score at least the shift's %.3f", above, best)
}

func TestNewDetector(t *testing.T) {
	d, err := NewDetector("")
	require.NoError(t, err)
	assert.IsType(t, &Ensemble{}, d)
	_, err = NewDetector("prophet-llm")
	assert.ErrorContains(t, err, `unknown detector "prophet-llm"; use one of ar, bocpd, context, counts, countshift, ensemble, prophet, seasonal`)
	for _, n := range DetectorNames() {
		assert.NotEmpty(t, DetectorDoc(n), n)
	}
}

// A constant series never alarms, and its band collapses on the value.
func TestFlatSeriesIsQuiet(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var obs []Observation
	for i := 0; i < 2000; i++ {
		obs = append(obs, Observation{Time: t0.Add(time.Duration(i) * time.Minute), Value: 45})
	}
	for _, name := range DetectorNames() {
		for i, d := range run(t, name, obs) {
			require.Equalf(t, 0.0, d.Score, "%s row %d", name, i)
		}
	}
}

// Evidence that recurs at the same time of day is discounted: the same
// spike every day at 03:00 weighs less each day, a one-off does not.
func TestRecurrenceDiscountsDailyEvidence(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &detRecurrence{}
	var got []float64
	for i := range 10 * 288 {
		ts := t0.Add(time.Duration(i) * 5 * time.Minute)
		ev := 0.0
		if ts.Hour() == 3 && ts.Minute() == 0 {
			ev = 8
		}
		if d := r.discount(ts, ev); ev > 0 {
			got = append(got, d)
		}
	}
	require.Len(t, got, 10)
	assert.Equal(t, 8.0, got[0], "the first day has no history")
	for day := 1; day < len(got); day++ {
		assert.InDeltaf(t, 8-recurWeight*8, got[day], 1e-12, "day %d: every earlier day had the spike", day)
	}
	// A one-off after a quiet history keeps its evidence.
	r = &detRecurrence{}
	for i := range 3 * 288 {
		ev := 0.0
		if i == 2*288+100 {
			ev = 8
		}
		if d := r.discount(t0.Add(time.Duration(i)*5*time.Minute), ev); ev > 0 {
			assert.Equal(t, 8.0, d)
		}
	}
}

// After an alarm nothing counts for detAlarmQuiet points; below the alarm
// level a rising score still counts.
func TestRestQuietAfterAlarm(t *testing.T) {
	r := newDetRest(0)
	assert.Equal(t, 0.3, r.filter(0.3))
	assert.Equal(t, 0.4, r.filter(0.4), "a rise below the alarm level counts")
	assert.Equal(t, 0.7, r.filter(0.7), "the alarm")
	for i := range detAlarmQuiet {
		require.Equalf(t, 0.0, r.filter(0.9), "point %d of the quiet period", i)
	}
	assert.Equal(t, 0.0, r.filter(0.5), "still below the rest period's highest score")
}

// The governor leaves evidence alone until a series has alarmed more than
// governAllow times in the last week, then asks governCost more evidence
// per further alarm; alarms older than a week are forgotten.
func TestGovernorRaisesTheBarForBusySeries(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		alarms []time.Duration // after t0
		at     time.Duration   // when the evidence is judged
		want   float64         // of evidence 10
	}{
		{"no alarms", nil, time.Hour, 10},
		{"as many as allowed", []time.Duration{0, time.Hour, 2 * time.Hour}, 3 * time.Hour, 10},
		{"one more", []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour}, 4 * time.Hour, 10 / (1 + governCost)},
		{"three more", []time.Duration{0, 1, 2, 3, 4, 5}, 6, 10 / (1 + 3*governCost)},
		{"the oldest a week ago is forgotten", []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour}, governWindow, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &detGovernor{}
			for _, a := range tc.alarms {
				g.damp(t0.Add(a), 0)
				g.record(t0.Add(a), detAlarmScore)
			}
			g.record(t0.Add(tc.at), detAlarmScore-0.01) // below the alarm level: not an alarm
			assert.InDelta(t, tc.want, g.damp(t0.Add(tc.at), 10), 1e-12)
		})
	}
}
