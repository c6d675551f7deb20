package anomaly

import "time"

// Defaults of the alarm-rate governor, set once on the NAB files.
const (
	governWindow = 7 * 24 * time.Hour // alarms older than this are forgotten
	governAllow  = 3                  // alarms in the window that cost nothing
	governCost   = 0.02               // evidence share each further alarm costs
)

// detGovernor raises the bar for a series that keeps alarming: each alarm
// beyond governAllow in the last governWindow divides the evidence by a
// further 1+governCost. A series that was quiet for a week alarms at the
// plain level; one that alarmed four times this week needs 2% more
// evidence, ten times 14% more — Numenta's anomaly-likelihood idea (judge a
// series against its own recent behaviour) applied to the alarms
// themselves. Mild on purpose: at twice the cost the NAB score falls by 2–5
// points, at this cost it gains about one (docs/BENCHMARKS.md).
type detGovernor struct {
	alarms []time.Time // times of recent alarms, oldest first
}

// damp returns ev for a point at t, after forgetting alarms older than the
// window.
func (g *detGovernor) damp(t time.Time, ev float64) float64 {
	drop := 0
	for drop < len(g.alarms) && t.Sub(g.alarms[drop]) >= governWindow {
		drop++
	}
	g.alarms = g.alarms[drop:]
	if extra := len(g.alarms) - governAllow; extra > 0 {
		ev /= 1 + governCost*float64(extra)
	}
	return ev
}

// record notes the point at t as an alarm when its final score is one.
func (g *detGovernor) record(t time.Time, score float64) {
	if score >= detAlarmScore {
		g.alarms = append(g.alarms, t)
	}
}
