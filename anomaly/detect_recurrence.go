package anomaly

import (
	"math"
	"time"
)

// Defaults of the recurrence discount, set once on the NAB files.
const (
	recurDays   = 7    // previous days compared
	recurJitter = 3    // rows either side of the same time of day
	recurWeight = 0.25 // share of the recurring evidence taken off
)

// detRecurrence discounts evidence that recurs at the same time of day. A
// nightly batch job or backup spikes a series at the same time every day:
// each spike surprises the models that do not know the clock, yet it is
// routine. The discount is the evidence seen at this time of day (±
// recurJitter rows) on each of the last recurDays days, averaged over the
// days: a spike every day is discounted in full, one coincidence last week
// by a seventh. The daily period in rows comes from the timestamps' step
// (as the seasonal model's), so a series with a step over six hours has none.
type detRecurrence struct {
	clock  detStep
	period int       // rows a day; 0 until the step is known, −1 for none
	hist   []float64 // ring of past evidence
	pos, n int
}

// discount returns ev less the recurring part, then records ev.
func (r *detRecurrence) discount(t time.Time, ev float64) float64 {
	step := r.clock.observe(t)
	if r.period == 0 && len(r.clock.gaps) >= detStepSample {
		r.period = -1
		if step > 0 && step <= 6*3600 {
			r.period = int(math.Round(86400 / step))
			r.hist = make([]float64, r.period*recurDays+recurJitter+1)
		}
	}
	if r.period <= 0 {
		return ev
	}
	size := len(r.hist)
	sum, days := 0.0, 0
	for d := 1; d <= recurDays && d*r.period+recurJitter <= r.n; d++ {
		m := 0.0
		for j := -recurJitter; j <= recurJitter; j++ {
			m = math.Max(m, r.hist[(r.pos-d*r.period-j+2*size)%size])
		}
		sum += m
		days++
	}
	r.hist[r.pos] = ev
	r.pos = (r.pos + 1) % size
	r.n++
	if days == 0 {
		return ev
	}
	return math.Max(0, ev-recurWeight*math.Min(ev, sum/float64(days)))
}
