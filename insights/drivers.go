package insights

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// Driver analysis settings.
const (
	// SignificanceLevel is the p-value below which a change or a driver is
	// called significant.
	SignificanceLevel = 0.05
	// maxDrivers is how many drivers a report keeps.
	maxDrivers = 5
)

// The significance tests, by metric kind.
const (
	TestPoissonRate   = "poisson-rate"   // counts: rates per day of two periods
	TestTwoProportion = "two-proportion" // ratios and a segment's share of a count
	TestWelch         = "welch-t"        // means: Welch's t on counts, sums and sums of squares
	TestNotApplicable = "not-applicable" // kinds without a test from aggregates (sums, min, max, percentiles)
)

// DriverReport is compare_periods' answer: the change of a metric between
// two periods, decomposed by each of its dimensions.
type DriverReport struct {
	Metric            *metrics.Definition
	Current, Previous Period
	CurrentValue      float64
	PreviousValue     float64
	Change            float64 // CurrentValue - PreviousValue
	ChangePct         float64 // Change / |PreviousValue| * 100; NaN when PreviousValue is 0
	Test              string
	PValue            float64 // NaN when Test is TestNotApplicable
	Significant       bool
	// Drivers are the segments that moved the total most, largest
	// absolute contribution first, over every dimension.
	Drivers []Driver
	// BroadBased is set when no segment changed significantly more than
	// the rest: the change is spread over the segments.
	BroadBased bool
	// TotalsEvidence holds the evidence of the two totals (current, previous);
	// StatsEvidence the computed contributions and tests.
	TotalsEvidence [2]string
	StatsEvidence  string
	// Dimensions are the dimensions analysed (those with more than one value).
	Dimensions []string
}

// CohortPrefix starts the dimension name of a cohort breakdown
// ("cohort:Course finishers"); its values are metrics.InCohort and
// metrics.NotInCohort.
const CohortPrefix = "cohort:"

// Driver is one segment's part in a change.
type Driver struct {
	Dimension    string
	Value        string
	Current      float64
	Previous     float64
	Contribution float64 // its part of DriverReport.Change
	SharePct     float64 // Contribution / Change * 100
	// MixEffect and RateEffect split Contribution for ratio metrics
	// (weights w = denominator share, rates r = numerator/denominator) and
	// means (w = the segment's share of the values, r = its mean):
	// rate = w₀(r₁ − r₀), mix = (w₁ − w₀)r₁; zero for other kinds.
	MixEffect, RateEffect float64
	PValue                float64
	Significant           bool
	Evidence              []string // the query evidence of its two values
}

// segment is one dimension value's numbers in both periods.
type segment struct {
	value      string
	cur, prev  float64 // the metric (for ratios, numerator; for means, the sum)
	dcur, dpre float64 // ratio denominators (for means, the count of values)
	// mcur, mpre are a mean metric's moments (Welch's test).
	mcur, mpre metrics.Moments
}

// ComparePeriods is compare_periods: the metric key's change from previous
// to current, decomposed by each of the metric's dimensions, with the
// significance test that fits its kind.
func (s *Session) ComparePeriods(ctx context.Context, key string, current, previous Period, filters []metrics.Filter) (*DriverReport, error) {
	const op = "insights.compare_periods"
	if err := allow(ctx, ToolComparePeriods); err != nil {
		return nil, err
	}
	def, err := s.t.Registry.GetByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	rep := &DriverReport{Metric: def, Current: current, Previous: previous}
	ratio := def.Kind == metrics.KindRatio
	keys := []string{key}
	if ratio {
		keys = []string{def.Numerator, def.Denominator}
	}
	dims := []string{""}
	for _, d := range def.Dimensions {
		dims = append(dims, d.Path)
	}
	// Cohort membership (the latest good evaluation) as one more breakdown
	// per evaluated cohort of the tenant.
	cohortOf, err := s.t.evaluatedCohorts(ctx)
	if err != nil {
		return nil, err
	}
	for name := range cohortOf {
		dims = append(dims, name)
	}
	slices.Sort(dims[1+len(def.Dimensions):])
	// One request per (metric key, dimension, period), answered in one batch.
	type slot struct {
		key, dim string
		cur      bool
	}
	var reqs []metrics.Request
	var slots []slot
	for _, dim := range dims {
		for _, k := range keys {
			for _, cur := range []bool{true, false} {
				p := previous
				if cur {
					p = current
				}
				req := metrics.Request{MetricKey: k, TimeRange: spec(p), Grain: metrics.GrainTotal, Filters: filters}
				switch id, ok := cohortOf[dim]; {
				case ok:
					req.CohortBreakdown = id
				case dim != "":
					req.Dimensions = []string{dim}
				}
				reqs, slots = append(reqs, req), append(slots, slot{k, dim, cur})
			}
		}
	}
	if ratio {
		// The ratio itself, for its totals evidence.
		for _, cur := range []bool{true, false} {
			p := previous
			if cur {
				p = current
			}
			reqs = append(reqs, metrics.Request{MetricKey: key, TimeRange: spec(p), Grain: metrics.GrainTotal, Filters: filters})
			slots = append(slots, slot{key, "", cur})
		}
	}
	res, ids, err := s.queryMetrics(ctx, ToolComparePeriods, reqs)
	if err != nil {
		return nil, err
	}
	idOf := map[slot]string{}
	resOf := map[slot]*metrics.Result{}
	for i, sl := range slots {
		idOf[sl], resOf[sl] = ids[i], res[i]
	}
	// Means: the moments of every (dimension, period), for Welch's test and
	// the mix/rate split.
	var mom map[slot]*metrics.MomentsResult
	momID := map[slot]string{}
	if def.Kind == metrics.KindAvg {
		mom = map[slot]*metrics.MomentsResult{}
		for i, sl := range slots {
			if mom[sl], momID[sl], err = s.queryMoments(ctx, reqs[i]); err != nil {
				return nil, err
			}
		}
	}
	total := func(k string, cur bool) float64 { return value(resOf[slot{k, "", cur}].Totals.Value) }
	rep.CurrentValue, rep.PreviousValue = total(key, true), total(key, false)
	rep.TotalsEvidence = [2]string{idOf[slot{key, "", true}], idOf[slot{key, "", false}]}
	rep.Change = rep.CurrentValue - rep.PreviousValue
	rep.ChangePct = pct(rep.CurrentValue, rep.PreviousValue)

	switch {
	case ratio:
		rep.Test = TestTwoProportion
		n1, d1, n0, d0 := total(keys[0], true), total(keys[1], true), total(keys[0], false), total(keys[1], false)
		rep.PValue = twoProportionP(n1, d1, n0, d0)
	case mom != nil:
		rep.Test = TestWelch
		rep.PValue = welchP(mom[slot{key, "", true}].Total, mom[slot{key, "", false}].Total)
	case def.Kind == metrics.KindCount || def.Kind == metrics.KindUniqueUsers:
		rep.Test = TestPoissonRate
		rep.PValue = poissonRateP(rep.CurrentValue, days(current), rep.PreviousValue, days(previous))
	default:
		rep.Test, rep.PValue = TestNotApplicable, math.NaN()
	}
	rep.Significant = rep.PValue < SignificanceLevel

	anySignificant := false
	for _, dim := range dims[1:] {
		segs := segments(resOf[slot{keys[0], dim, true}], resOf[slot{keys[0], dim, false}])
		if mom != nil {
			segs = momentSegments(mom[slot{key, dim, true}], mom[slot{key, dim, false}])
		}
		if ratio {
			addDenominators(segs, resOf[slot{keys[1], dim, true}], resOf[slot{keys[1], dim, false}])
		}
		if len(segs) < 2 {
			continue
		}
		rep.Dimensions = append(rep.Dimensions, dim)
		ev := []string{idOf[slot{keys[0], dim, true}], idOf[slot{keys[0], dim, false}]}
		if mom != nil {
			ev = []string{momID[slot{key, dim, true}], momID[slot{key, dim, false}]}
		}
		if ratio {
			ev = append(ev, idOf[slot{keys[1], dim, true}], idOf[slot{keys[1], dim, false}])
		}
		for _, d := range decompose(def.Kind, segs, rep) {
			d.Dimension, d.Evidence = dim, ev
			anySignificant = anySignificant || d.Significant
			rep.Drivers = append(rep.Drivers, d)
		}
	}
	sort.SliceStable(rep.Drivers, func(i, j int) bool {
		return math.Abs(rep.Drivers[i].Contribution) > math.Abs(rep.Drivers[j].Contribution)
	})
	if len(rep.Drivers) > maxDrivers {
		rep.Drivers = rep.Drivers[:maxDrivers]
	}
	rep.BroadBased = !anySignificant && rep.Test != TestNotApplicable
	if len(rep.Dimensions) == 0 && def.Kind != metrics.KindRatio && len(dims) > 1 {
		s.step("tool_result", "no dimension of "+key+" has more than one value in these periods")
	}
	rep.StatsEvidence = s.recordStats(rep, ids)
	if rep.CurrentValue == 0 && rep.PreviousValue == 0 {
		return rep, errs.E(op, errs.KindNotFound, fmt.Sprintf("%s has no data in %s or %s", key, current.Label, previous.Label))
	}
	return rep, nil
}

// maxCohortBreakdowns bounds the cohorts a driver analysis splits by.
const maxCohortBreakdowns = 3

// evaluatedCohorts maps "cohort:<name>" to the id of up to
// maxCohortBreakdowns cohorts of the caller's tenant that have a good
// evaluation; none without a cohort service.
func (t *Tools) evaluatedCohorts(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	if t.Cohorts == nil {
		return out, nil
	}
	list, err := t.Cohorts.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		if len(out) == maxCohortBreakdowns {
			break
		}
		hist, err := t.Cohorts.History(ctx, c.ID, 5)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(hist, func(e *cohorts.Evaluation) bool { return e.Error == "" }) {
			out[CohortPrefix+c.Name] = c.ID
		}
	}
	return out, nil
}

// recordStats records the computed numbers of a report as derived evidence.
func (s *Session) recordStats(rep *DriverReport, from []string) string {
	ev := Evidence{Tool: ToolComparePeriods, RanAt: s.t.now(), Rows: len(rep.Drivers)}
	req, _ := json.Marshal(map[string]any{"metric": rep.Metric.Key, "current": rep.Current, "previous": rep.Previous,
		"test": rep.Test, "derivedFrom": from})
	ev.Request = string(req)
	add := func(name string, v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			ev.Values = append(ev.Values, Value{Name: name, Value: v})
		}
	}
	add("change", rep.Change)
	add("change_pct", rep.ChangePct)
	add("p_value", rep.PValue)
	for _, d := range rep.Drivers {
		n := d.Dimension + "=" + d.Value
		add(n+"/current", d.Current)
		add(n+"/previous", d.Previous)
		add(n+"/contribution", d.Contribution)
		add(n+"/share_pct", d.SharePct)
		add(n+"/p_value", d.PValue)
		if rep.Metric.Kind == metrics.KindRatio || rep.Metric.Kind == metrics.KindAvg {
			add(n+"/mix", d.MixEffect)
			add(n+"/rate", d.RateEffect)
		}
		ev.Labels = append(ev.Labels, d.Value)
	}
	return s.record(ev, 0)
}

// decompose computes each segment's contribution and test.
func decompose(kind metrics.Kind, segs []segment, rep *DriverReport) []Driver {
	var C1, C0, D1, D0 float64
	for _, g := range segs {
		C1, C0, D1, D0 = C1+g.cur, C0+g.prev, D1+g.dcur, D0+g.dpre
	}
	out := make([]Driver, 0, len(segs))
	for _, g := range segs {
		d := Driver{Value: g.value, Current: g.cur, Previous: g.prev, PValue: math.NaN()}
		switch kind {
		case metrics.KindRatio, metrics.KindAvg:
			w1, w0 := safeDiv(g.dcur, D1), safeDiv(g.dpre, D0)
			r1, r0 := safeDiv(g.cur, g.dcur), safeDiv(g.prev, g.dpre)
			d.Current, d.Previous = r1, r0
			d.RateEffect, d.MixEffect = w0*(r1-r0), (w1-w0)*r1
			d.Contribution = d.RateEffect + d.MixEffect
			if kind == metrics.KindAvg {
				d.PValue = welchP(g.mcur, g.mpre)
			} else {
				d.PValue = twoProportionP(g.cur, g.dcur, g.prev, g.dpre)
			}
		case metrics.KindCount, metrics.KindUniqueUsers, metrics.KindSum:
			d.Contribution = g.cur - g.prev
			// Did this segment's share of the total move? Under a
			// broad-based change every segment keeps its share.
			d.PValue = twoProportionP(g.cur, C1, g.prev, C0)
		default:
			d.Contribution = g.cur - g.prev
		}
		if rep.Change != 0 {
			d.SharePct = d.Contribution / rep.Change * 100
		}
		d.Significant = d.PValue < SignificanceLevel
		out = append(out, d)
	}
	return out
}

// segmentSet collects segments by dimension value.
type segmentSet struct {
	idx map[string]int
	out []segment
}

// get returns the segment of value v, adding it when new.
func (ss *segmentSet) get(v string) *segment {
	if ss.idx == nil {
		ss.idx = map[string]int{}
	}
	i, ok := ss.idx[v]
	if !ok {
		i = len(ss.out)
		ss.idx[v] = i
		ss.out = append(ss.out, segment{value: v})
	}
	return &ss.out[i]
}

// sorted returns the segments ordered by value.
func (ss *segmentSet) sorted() []segment {
	slices.SortFunc(ss.out, func(a, b segment) int { return strings.Compare(a.value, b.value) })
	return ss.out
}

// segments pairs the series of one dimension in the two periods.
func segments(cur, prev *metrics.Result) []segment {
	var ss segmentSet
	for _, sr := range cur.Series {
		ss.get(strings.Join(sr.Values, "/")).cur = value(sr.Total.Value)
	}
	for _, sr := range prev.Series {
		ss.get(strings.Join(sr.Values, "/")).prev = value(sr.Total.Value)
	}
	return ss.sorted()
}

// momentSegments pairs the moment groups of one dimension in the two
// periods: sums as the numerators, counts as the denominators.
func momentSegments(cur, prev *metrics.MomentsResult) []segment {
	var ss segmentSet
	for _, m := range cur.Groups {
		g := ss.get(strings.Join(m.Values, "/"))
		g.cur, g.dcur, g.mcur = m.Sum, m.Count, m
	}
	for _, m := range prev.Groups {
		g := ss.get(strings.Join(m.Values, "/"))
		g.prev, g.dpre, g.mpre = m.Sum, m.Count, m
	}
	return ss.sorted()
}

// addDenominators fills the ratio denominators of segs.
func addDenominators(segs []segment, cur, prev *metrics.Result) {
	for i := range segs {
		for _, sr := range cur.Series {
			if strings.Join(sr.Values, "/") == segs[i].value {
				segs[i].dcur = value(sr.Total.Value)
			}
		}
		for _, sr := range prev.Series {
			if strings.Join(sr.Values, "/") == segs[i].value {
				segs[i].dpre = value(sr.Total.Value)
			}
		}
	}
}

// poissonRateP is the two-sided p-value of equal Poisson rates for counts
// c1 over t1 days and c0 over t0 days (normal approximation of the rate
// difference).
func poissonRateP(c1, t1, c0, t0 float64) float64 {
	if t1 <= 0 || t0 <= 0 || c1+c0 == 0 {
		return 1
	}
	se := math.Sqrt(c1/(t1*t1) + c0/(t0*t0))
	if se == 0 {
		return 1
	}
	return 2 * normalSF(math.Abs(c1/t1-c0/t0)/se)
}

// twoProportionP is the two-sided p-value of the pooled two-proportion z
// test of x1/n1 against x0/n0.
func twoProportionP(x1, n1, x0, n0 float64) float64 {
	if n1 <= 0 || n0 <= 0 {
		return 1
	}
	p := (x1 + x0) / (n1 + n0)
	se := math.Sqrt(p * (1 - p) * (1/n1 + 1/n0))
	if se == 0 {
		return 1
	}
	return 2 * normalSF(math.Abs(x1/n1-x0/n0)/se)
}

// welchP is the two-sided p-value of Welch's t test of equal means for
// the values summarised by a and b (unequal variances, Welch–Satterthwaite
// degrees of freedom); 1 when either side has fewer than two values or
// neither varies.
func welchP(a, b metrics.Moments) float64 {
	if a.Count < 2 || b.Count < 2 {
		return 1
	}
	va, vb := a.Variance()/a.Count, b.Variance()/b.Count
	if va+vb == 0 {
		return 1
	}
	t := math.Abs(a.Mean()-b.Mean()) / math.Sqrt(va+vb)
	df := (va + vb) * (va + vb) / (va*va/(a.Count-1) + vb*vb/(b.Count-1))
	return 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(t)
}

// normalSF is the standard normal survival function.
func normalSF(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

func pct(cur, prev float64) float64 {
	if prev == 0 {
		return math.NaN()
	}
	return (cur - prev) / math.Abs(prev) * 100
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func value(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

func days(p Period) float64 { return p.To.Sub(p.From).Hours() / 24 }

// spec is p as an absolute time range.
func spec(p Period) timerange.Spec {
	from, to := p.From.UTC(), p.To.UTC()
	return timerange.Spec{From: &from, To: &to}
}

// label formats a period for people: "March 2026" for a calendar month,
// else "2026-03-01 – 2026-03-31" (the last day included).
func label(from, to time.Time) string {
	if from.Day() == 1 && from.AddDate(0, 1, 0).Equal(to) && from.Hour() == 0 {
		return from.Format("January 2006")
	}
	return from.Format(time.DateOnly) + " – " + to.AddDate(0, 0, -1).Format(time.DateOnly)
}
