package journeys

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/learnhub/analytics-service/timerange"
)

// This file is the reference evaluator: the semantics of docs/ARCHITECTURE.md
// ("Journeys") written as plain, slow Go over one user's events at a time.
// Funnel reach is found by enumerating every chain of events (no dynamic
// programming), so that the SQL compiler, which uses a one-pass state
// machine over arrays, is checked against the definition and not against
// a second copy of itself. Tests and the benchmark compare the two.

// item is one event of a user's funnel sequence.
type item struct {
	t     int64  // unix milliseconds
	mask  uint64 // bit k-1: matches step k; bit exclusionBit+i: matches exclusion i
	value string // breakdown property as text, "" when absent
}

// sortKey orders events that share an instant: the one that can serve the
// earliest step first, then by mask and value, so equal timestamps never
// depend on arrival order. Events that serve no step (exclusions, other
// events in strict funnels) come after the step events of their instant.
func (it item) sortKey(steps uint64) int {
	sm := it.mask & steps
	if sm == 0 {
		return 99
	}
	n := 1
	for sm&1 == 0 {
		sm >>= 1
		n++
	}
	return n
}

func compareItems(steps uint64) func(a, b item) int {
	return func(a, b item) int {
		return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.sortKey(steps), b.sortKey(steps)),
			cmp.Compare(a.mask, b.mask), cmp.Compare(a.value, b.value))
	}
}

// outcome is what one user contributes to a funnel.
type outcome struct {
	user    string
	reached int
	value   string
	entry   int64   // time of the first step-1 event (any step when unordered)
	toStep  []int64 // toStep[k]: ms from step k-1 to step k (k ≥ 2), -1 when not reached
	between int64   // ms between the histogram's steps, -1 when not reached
}

// FunnelReference evaluates r over events the slow, obvious way. Cohorts
// are not evaluated: pass only the events of the cohorts' members.
func FunnelReference(r FunnelRequest, now time.Time, events []Event) (*FunnelResult, error) {
	p, err := checkFunnel(r, now)
	if err != nil {
		return nil, err
	}
	return p.assemble(p.referenceOutcomes(events, 0, 0)), nil
}

// referenceOutcomes evaluates every user; from/to (1-based, 0 for none)
// name the histogram's steps.
func (p *funnelPlan) referenceOutcomes(events []Event, from, to int) []outcome {
	byUser := map[string][]item{}
	for _, e := range events {
		if e.User == "" || e.At.Before(p.rng.From) || !e.At.Before(p.rng.To) {
			continue
		}
		it := item{t: e.At.UnixMilli()}
		for k, s := range p.Steps {
			if s.matches(e) {
				it.mask |= 1 << k
			}
		}
		for i, x := range p.Exclusions {
			if x.matches(e) {
				it.mask |= 1 << (exclusionBit + i)
			}
		}
		if it.mask == 0 && p.Order != Strict {
			continue
		}
		if p.Breakdown != nil {
			it.value = e.Props[p.Breakdown.Property]
		}
		byUser[e.User] = append(byUser[e.User], it)
	}
	var out []outcome
	for _, u := range slices.Sorted(maps.Keys(byUser)) {
		its := byUser[u]
		slices.SortFunc(its, compareItems(p.stepMask()))
		o := p.referenceUser(its, from, to)
		if o.reached > 0 {
			o.user = u
			out = append(out, o)
		}
	}
	return out
}

// referenceUser evaluates one user's sorted events.
func (p *funnelPlan) referenceUser(its []item, from, to int) outcome {
	n := len(p.Steps)
	o := outcome{toStep: make([]int64, n+1), between: -1}
	for k := range o.toStep {
		o.toStep[k] = -1
	}
	first := slices.IndexFunc(its, func(it item) bool { return it.mask&1 != 0 })
	if p.Order == Unordered {
		first = slices.IndexFunc(its, func(it item) bool { return it.mask&p.stepMask() != 0 })
	}
	if first < 0 {
		return o
	}
	o.entry = its[first].t
	if p.Order == Unordered {
		o.reached, o.value = p.unorderedReach(its), its[first].value
		return o
	}
	// ends[k] lists every valid chain of k steps (positions, 0-based).
	ends := make([][][]int, n+1)
	var grow func(chain []int)
	grow = func(chain []int) {
		k := len(chain)
		ends[k] = append(ends[k], chain)
		if k == n {
			return
		}
		last := chain[k-1]
		for q := last + 1; q < len(its); q++ {
			if p.Order == Strict && q != last+1 {
				break
			}
			if its[q].mask&(1<<k) == 0 || its[q].t-its[chain[0]].t > p.ConversionWindow.Milliseconds() {
				continue
			}
			if p.excluded(its, k, last, q) {
				continue
			}
			grow(append(slices.Clone(chain), q))
		}
	}
	for q, it := range its {
		if it.mask&1 != 0 {
			grow([]int{q})
		}
	}
	// reachedAt[k]: the first position where any valid k-chain ends;
	// best[k]: among the chains ending there, the one with the latest
	// step k-1, then the latest step k-2, and so on.
	best := make([][]int, n+1)
	for k := 1; k <= n; k++ {
		for _, c := range ends[k] {
			if best[k] == nil || c[k-1] < best[k][k-1] || c[k-1] == best[k][k-1] && laterPrefix(c, best[k]) {
				best[k] = c
			}
		}
		if best[k] == nil {
			break
		}
		o.reached = k
		if k >= 2 {
			o.toStep[k] = its[best[k][k-1]].t - its[best[k][k-2]].t
		}
	}
	if from > 0 && to <= o.reached {
		c := best[to]
		o.between = its[c[to-1]].t - its[c[from-1]].t
	}
	switch p.attribution() {
	case FirstTouch:
		o.value = its[first].value
	case LastTouch:
		o.value = its[best[o.reached][o.reached-1]].value
	case StepTouch:
		if s := p.Breakdown.Step; s <= o.reached {
			o.value = its[best[s][s-1]].value
		}
	}
	return o
}

// laterPrefix reports whether chain a (same length and end as b) has the
// later positions, compared from its second-to-last step backwards.
func laterPrefix(a, b []int) bool {
	for j := len(a) - 2; j >= 0; j-- {
		if a[j] != b[j] {
			return a[j] > b[j]
		}
	}
	return false
}

// excluded reports whether an exclusion event ends an attempt standing at
// step k (at position last) before it can take step k+1 at position q: an
// exclusion with From ≤ k < To happening in (last, q].
func (p *funnelPlan) excluded(its []item, k, last, q int) bool {
	kill := p.killMask(k, exclusionBit)
	if kill == 0 {
		return false
	}
	for j := last + 1; j <= q; j++ {
		if its[j].mask&kill != 0 {
			return true
		}
	}
	return false
}

// unorderedReach is the most distinct steps that events inside one window
// cover, the window opening at an event of any step.
func (p *funnelPlan) unorderedReach(its []item) int {
	best := 0
	for i, start := range its {
		if start.mask&p.stepMask() == 0 {
			continue
		}
		var seen uint64
		for _, it := range its[i:] {
			if it.t-start.t <= p.ConversionWindow.Milliseconds() {
				seen |= it.mask & p.stepMask()
			}
		}
		c := 0
		for ; seen != 0; seen &= seen - 1 {
			c++
		}
		best = max(best, c)
	}
	return best
}

// attribution is the breakdown's attribution, "" without a breakdown.
func (p *funnelPlan) attribution() Attribution {
	if p.Breakdown == nil {
		return ""
	}
	return p.Breakdown.Attribution
}

// assemble turns per-user outcomes into a FunnelResult: the total and, with
// a breakdown, the top N values by entered users (ties by value) and other.
func (p *funnelPlan) assemble(os []outcome) *FunnelResult {
	res := &FunnelResult{Steps: p.stepResults(os)}
	if p.Breakdown == nil {
		return res
	}
	byValue := map[string][]outcome{}
	for _, o := range os {
		byValue[o.value] = append(byValue[o.value], o)
	}
	values := slices.Collect(maps.Keys(byValue))
	slices.SortFunc(values, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(byValue[b]), len(byValue[a])), cmp.Compare(a, b))
	})
	var other []outcome
	for i, v := range values {
		if i < p.topN {
			res.Breakdowns = append(res.Breakdowns, FunnelBreakdown{Value: v, Steps: p.stepResults(byValue[v])})
		} else {
			other = append(other, byValue[v]...)
		}
	}
	if len(other) > 0 {
		res.Breakdowns = append(res.Breakdowns, FunnelBreakdown{Value: OtherValue, Other: true, Steps: p.stepResults(other)})
	}
	return res
}

// stepResults counts the steps over os.
func (p *funnelPlan) stepResults(os []outcome) []StepResult {
	counts := make([]int64, len(p.Steps))
	times := make([][]int64, len(p.Steps)+1)
	for _, o := range os {
		for k := 1; k <= o.reached; k++ {
			counts[k-1]++
			if k >= 2 && o.toStep[k] >= 0 {
				times[k] = append(times[k], o.toStep[k])
			}
		}
	}
	return p.steps(counts, func(k int) []int64 { return times[k] }, nil)
}

// steps fills StepResults from per-step entered counts; durations(k) is the
// sorted-or-not times to step k (k ≥ 2), or quantiles gives them ready.
func (p *funnelPlan) steps(counts []int64, durations func(k int) []int64, quantiles func(k int) (med, p90 *time.Duration)) []StepResult {
	out := make([]StepResult, len(p.Steps))
	for i, s := range p.Steps {
		r := StepResult{Step: i + 1, Label: s.Label, EventType: s.EventType, Entered: counts[i], ConversionFromFirst: 1, ConversionFromPrevious: 1}
		if r.Label == "" {
			r.Label = s.EventType
		}
		r.Converted = counts[i]
		if i+1 < len(counts) {
			r.Converted = counts[i+1]
		}
		if i > 0 {
			r.ConversionFromFirst = ratio(counts[i], counts[0])
			r.ConversionFromPrevious = ratio(counts[i], counts[i-1])
			r.DropOff = counts[i-1] - counts[i]
			r.DropOffRate = ratio(r.DropOff, counts[i-1])
			if p.Order != Unordered {
				if quantiles != nil {
					r.MedianTimeToConvert, r.P90TimeToConvert = quantiles(i + 1)
				} else if d := durations(i + 1); len(d) > 0 {
					r.MedianTimeToConvert, r.P90TimeToConvert = quantileExact(d, 0.5), quantileExact(d, 0.9)
				}
			}
		} else if counts[0] == 0 {
			r.ConversionFromFirst, r.ConversionFromPrevious = 0, 0
		}
		r.Conversion = r.ConversionFromFirst
		if p.StepReference == RefPrevious {
			r.Conversion = r.ConversionFromPrevious
		}
		out[i] = r
	}
	return out
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// quantileExact is ClickHouse's quantileExact: the element at index
// ⌊level·n⌋ of the sorted values.
func quantileExact(xs []int64, level float64) *time.Duration {
	s := slices.Sorted(slices.Values(xs))
	i := min(int(level*float64(len(s))), len(s)-1)
	d := time.Duration(s[i]) * time.Millisecond
	return &d
}

// FunnelHistogramReference is FunnelHistogram evaluated by the reference.
func FunnelHistogramReference(r FunnelRequest, now time.Time, events []Event, from, to, bins int) ([]Bin, error) {
	p, err := checkFunnel(r, now)
	if err != nil {
		return nil, err
	}
	if bins, err = p.checkHistogram(from, to, bins); err != nil {
		return nil, err
	}
	var hs []int64
	for _, o := range p.referenceOutcomes(events, from, to) {
		if o.between >= 0 {
			hs = append(hs, o.between)
		}
	}
	if len(hs) == 0 {
		return binsOf(0, 0, bins, nil), nil
	}
	lo, hi := slices.Min(hs), slices.Max(hs)
	w := max((hi-lo+int64(bins))/int64(bins), 1)
	counts := map[int64]int64{}
	for _, h := range hs {
		counts[(h-lo)/w]++
	}
	return binsOf(lo, w, bins, counts), nil
}

// FunnelTrendReference is FunnelTrend evaluated by the reference.
func FunnelTrendReference(r FunnelRequest, now time.Time, events []Event, grain timerange.Grain) ([]TrendPoint, error) {
	p, err := checkFunnel(r, now)
	if err != nil {
		return nil, err
	}
	if err := checkTrendGrain(p, grain); err != nil {
		return nil, err
	}
	byStart := map[time.Time]*TrendPoint{}
	for _, o := range p.referenceOutcomes(events, 0, 0) {
		start := grain.Truncate(time.UnixMilli(o.entry), p.loc)
		tp := byStart[start]
		if tp == nil {
			tp = &TrendPoint{Start: start}
			byStart[start] = tp
		}
		tp.Entered++
		if o.reached == len(p.Steps) {
			tp.Completed++
		}
	}
	var out []TrendPoint
	for _, start := range slices.SortedFunc(maps.Keys(byStart), func(a, b time.Time) int { return a.Compare(b) }) {
		tp := byStart[start]
		tp.Rate = ratio(tp.Completed, tp.Entered)
		out = append(out, *tp)
	}
	return out, nil
}

// FunnelActorsReference lists every user FunnelActors pages through.
func FunnelActorsReference(r FunnelRequest, now time.Time, events []Event, a ActorsRequest) ([]Actor, error) {
	p, err := checkFunnel(r, now)
	if err != nil {
		return nil, err
	}
	if _, _, err := p.checkActors(a); err != nil {
		return nil, err
	}
	out := []Actor{}
	for _, o := range p.referenceOutcomes(events, 0, 0) {
		in := o.reached >= a.Step
		if a.Dropped {
			in = o.reached == a.Step
		}
		if in && (a.Value == nil || *a.Value == o.value) {
			out = append(out, Actor{UserID: o.user, Reached: o.reached})
		}
	}
	return out, nil
}
