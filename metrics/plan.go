package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/cohorts/membership"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// component is one base aggregate a query computes in SQL; derived
// metrics combine components in Go.
type component struct {
	Kind       Kind
	EventTypes []string
	FirstSeen  bool
	Value      *ValueRef
	Percentile float64
	Filters    []Filter // metric-level, checked at definition time
	filters    []boundFilter
}

// plan is a checked request: everything needed to compile and assemble it.
type plan struct {
	req   Request
	def   *Definition
	scope store.Scope
	rng   timerange.Range
	cmp   *timerange.Range
	loc   *time.Location
	// openDay is the UTC day holding now: the rollup has not been rebuilt
	// for it yet, so it is read from events FINAL (see wholeDays).
	openDay time.Time
	grain   Grain // GrainNone for totals
	buckets []time.Time
	dims    []Dimension
	filters []boundFilter
	comps   []component
	// eval combines component values (in comps order) into the metric value.
	eval       func(vals []*float64) *float64
	cumulative bool
	conversion bool
	notices    []string
	path       string
	// sharded: the tables are spread over a cluster's shards.
	sharded bool
}

// Ranges resolves a request's zone, its time range in that zone and, when
// it asks for one, its comparison range. Errors name the request's fields
// behind prefix ("" for metricQuery, "metric." in an export request).
func Ranges(req Request, now time.Time, prefix string) (*time.Location, timerange.Range, *timerange.Range, error) {
	loc, err := timerange.Location(req.Timezone, prefix+"timezone")
	if err != nil {
		return nil, timerange.Range{}, nil, err
	}
	rng, err := timerange.ResolveIn(req.TimeRange, now, loc, prefix+"timeRange")
	if err != nil {
		return nil, timerange.Range{}, nil, err
	}
	var cmp timerange.Range
	switch req.CompareTo {
	case "":
		return loc, rng, nil, nil
	case ComparePreviousPeriod:
		cmp = rng.PreviousPeriod()
	case ComparePreviousYear:
		cmp = rng.PreviousYear(loc)
	default:
		return nil, timerange.Range{}, nil, invalid("metrics.Query", prefix+"compareTo", "compareTo %q is not a comparison; use %s or %s",
			req.CompareTo, ComparePreviousPeriod, ComparePreviousYear)
	}
	return loc, rng, &cmp, nil
}

// CheckRanges applies check (nil checks nothing) to a request's range and
// its comparison range, naming the field of the one refused behind prefix.
func CheckRanges(check func(timerange.Range) error, rng timerange.Range, cmp *timerange.Range, prefix string) error {
	if check == nil {
		return nil
	}
	name := func(err error, field string) error {
		var e *errs.Error
		if errors.As(err, &e) {
			return e.With("field", prefix+field)
		}
		return err
	}
	if err := check(rng); err != nil {
		return name(err, "timeRange")
	}
	if cmp == nil {
		return nil
	}
	if err := check(*cmp); err != nil {
		return name(err, "compareTo")
	}
	return nil
}

// newPlan checks req against the metric and the tenant's other metrics.
func newPlan(req Request, scope store.Scope, all []*Definition, now time.Time) (*plan, error) {
	const op = "metrics.Query"
	keys := byKey(all)
	var def *Definition
	switch {
	case req.MetricID != "":
		if i := slices.IndexFunc(all, func(d *Definition) bool { return d.ID == req.MetricID }); i >= 0 {
			def = all[i]
		}
	case req.MetricKey != "":
		def = keys[req.MetricKey]
	default:
		return nil, errs.Invalid(op, "metric", "give the metric's id or key")
	}
	if def == nil {
		return nil, errs.E(op, errs.KindNotFound, fmt.Sprintf("metric %q not found", req.MetricID+req.MetricKey)).With("field", "metric")
	}
	p := &plan{req: req, def: def, scope: scope, openDay: now.UTC().Truncate(24 * time.Hour)}
	if def.Status == StatusDeprecated {
		if def.Sunset != nil && !now.Before(*def.Sunset) {
			return nil, errs.E(op, errs.KindNotFound, fmt.Sprintf("metric %q was retired on %s%s", def.Key,
				def.Sunset.UTC().Format(time.DateOnly), useInstead(def))).With("field", "metric")
		}
		msg := fmt.Sprintf("metric %q is deprecated%s", def.Key, useInstead(def))
		if def.Sunset != nil {
			msg += fmt.Sprintf("; it stops answering on %s", def.Sunset.UTC().Format(time.DateOnly))
		}
		p.notices = append(p.notices, msg)
	}
	var err error
	if p.loc, p.rng, p.cmp, err = Ranges(req, now, ""); err != nil {
		return nil, err
	}
	if err := p.checkShape(op); err != nil {
		return nil, err
	}
	p.eval, err = p.expand(def, keys, 0)
	if err != nil {
		return nil, err
	}
	p.cumulative = def.Kind == KindCumulative
	p.conversion = def.Kind == KindConversion
	p.path = PathRaw
	if p.rollupEligible() {
		p.path = PathRollup
	}
	return p, nil
}

// checkShape checks grain, dimensions, filters, order and limit.
func (p *plan) checkShape(op string) error {
	req, def := p.req, p.def
	switch g := req.Grain; g {
	case GrainTotal:
		p.grain = timerange.GrainNone
	case "":
		p.grain = def.DefaultGrain
	default:
		var err error
		if p.grain, err = timerange.ParseGrain(string(g), "grain"); err != nil {
			return err
		}
	}
	var err error
	if p.buckets, err = timerange.Buckets(p.rng, p.grain, p.loc, "grain"); err != nil {
		return err
	}
	names := make([]string, len(def.Dimensions))
	for i, d := range def.Dimensions {
		names[i] = d.Path
	}
	if len(req.Dimensions) > MaxRequestDimensions {
		return invalid(op, "dimensions", "at most %d dimensions are allowed, got %d", MaxRequestDimensions, len(req.Dimensions))
	}
	for i, name := range req.Dimensions {
		d, ok := def.dimension(name)
		if !ok {
			return invalid(op, fmt.Sprintf("dimensions[%d]", i), "dimension %q is not allowed for metric %q; use one of %v", name, def.Key, names)
		}
		if slices.ContainsFunc(p.dims, func(x Dimension) bool { return x.Path == name }) {
			return invalid(op, fmt.Sprintf("dimensions[%d]", i), "dimension %q is listed twice", name)
		}
		p.dims = append(p.dims, d)
	}
	if len(req.Filters) > MaxRequestFilters {
		return invalid(op, "filters", "at most %d filters are allowed, got %d", MaxRequestFilters, len(req.Filters))
	}
	for i, f := range req.Filters {
		bf, err := bindFilter(op, fmt.Sprintf("filters[%d]", i), f, def.dimension, names)
		if err != nil {
			return err
		}
		p.filters = append(p.filters, bf)
	}
	if err := p.checkCohorts(op); err != nil {
		return err
	}
	switch req.OrderBy {
	case "", OrderValueDesc, OrderValueAsc, OrderDimension:
	default:
		return invalid(op, "orderBy", "orderBy %q is not an order; use %s, %s or %s", req.OrderBy, OrderValueDesc, OrderValueAsc, OrderDimension)
	}
	if req.Limit < 0 || req.Limit > MaxLimit {
		return invalid(op, "limit", "limit %d must be between 0 (all series) and %d", req.Limit, MaxLimit)
	}
	return nil
}

// checkCohorts checks the cohort filters and appends the cohort breakdown
// to the dimensions. Whether the cohorts exist is the caller's concern: an
// unknown id matches nobody (see membership.Filter).
func (p *plan) checkCohorts(op string) error {
	req := p.req
	if err := req.CheckCohortFilters(op, "cohorts"); err != nil {
		return err
	}
	if req.CohortBreakdown != "" {
		if len(p.dims) >= MaxRequestDimensions {
			return invalid(op, "cohortBreakdown", "a cohort breakdown counts as a dimension; at most %d are allowed", MaxRequestDimensions)
		}
		p.dims = append(p.dims, Dimension{Path: CohortDimension, Type: TypeString})
	}
	return nil
}

// dimNames are the paths of the plan's dimensions, the cohort breakdown last.
func (p *plan) dimNames() []string {
	out := make([]string, len(p.dims))
	for i, d := range p.dims {
		out[i] = d.Path
	}
	return out
}

// cohortWith is the WITH clause naming each cohort condition of the
// request once: cf0… for the filters, cb for the breakdown. The
// membership subqueries are tenant-guarded and their ids bound.
func (p *plan) cohortWith() (string, []any) {
	var parts []string
	var args []any
	add := func(id, alias string) {
		frag, a := membership.Filter(p.scope, id)
		parts = append(parts, "("+frag+") AS "+alias)
		args = append(args, a...)
	}
	for i, c := range p.req.Cohorts {
		add(c.CohortID, fmt.Sprintf("cf%d", i))
	}
	if p.req.CohortBreakdown != "" {
		add(p.req.CohortBreakdown, "cb")
	}
	if parts == nil {
		return "", nil
	}
	return "WITH " + strings.Join(parts, ", ") + " ", args
}

// cohortConds are the WHERE conditions of the cohort filters, over the
// aliases of cohortWith.
func (p *plan) cohortConds() []string {
	out := make([]string, len(p.req.Cohorts))
	for i, c := range p.req.Cohorts {
		out[i] = fmt.Sprintf("cf%d", i)
		if c.Exclude {
			out[i] = "NOT " + out[i]
		}
	}
	return out
}

// cohortDimSQL is the cohort breakdown dimension over the cb alias.
const cohortDimSQL = "if(cb, '" + InCohort + "', '" + NotInCohort + "')"

// expand turns a metric into components appended to p.comps and returns
// the function that combines their values.
func (p *plan) expand(d *Definition, keys map[string]*Definition, depth int) (func([]*float64) *float64, error) {
	if depth > 16 {
		return nil, errs.E("metrics.Query", errs.KindInvalid, fmt.Sprintf("metric %q nests too deeply", d.Key))
	}
	ref := func(key string) (func([]*float64) *float64, error) {
		r, ok := keys[key]
		if !ok {
			return nil, errs.E("metrics.Query", errs.KindInvalid, fmt.Sprintf("metric %q uses %q, which no longer exists; update it", d.Key, key))
		}
		return p.expand(r, keys, depth+1)
	}
	switch d.Kind {
	case KindRatio:
		num, err := ref(d.Numerator)
		if err != nil {
			return nil, err
		}
		den, err := ref(d.Denominator)
		if err != nil {
			return nil, err
		}
		return func(v []*float64) *float64 { return divide(num(v), den(v)) }, nil
	case KindFormula:
		e, err := ParseExpression(d.Expression)
		if err != nil {
			return nil, errs.Wrap("metrics.Query", errs.KindInternal, err, "")
		}
		fns := map[string]func([]*float64) *float64{}
		for _, k := range e.Idents() {
			if fns[k], err = ref(k); err != nil {
				return nil, err
			}
		}
		return func(v []*float64) *float64 {
			vals := make(map[string]*float64, len(fns))
			for k, f := range fns {
				vals[k] = f(v)
			}
			return e.Eval(vals)
		}, nil
	case KindCumulative:
		return ref(d.Base)
	case KindConversion:
		started := p.addComponent(component{Kind: "CONVERSION_STARTED"})
		converted := p.addComponent(component{Kind: "CONVERSION_CONVERTED"})
		return func(v []*float64) *float64 { return divide(v[converted], v[started]) }, nil
	}
	c := component{Kind: d.Kind, EventTypes: d.EventTypes, FirstSeen: d.FirstSeen, Value: d.Value, Percentile: d.Percentile, Filters: d.Filters}
	var err error
	if c.filters, err = bindMetricFilters("metrics.Query", d); err != nil {
		return nil, err
	}
	i := p.addComponent(c)
	scale := 1.0
	if d.Value != nil && d.Value.Scale != 0 {
		scale = d.Value.Scale
	}
	return func(v []*float64) *float64 {
		if v[i] == nil || scale == 1 {
			return v[i]
		}
		x := *v[i] * scale
		return &x
	}, nil
}

// addComponent appends c unless an identical one exists and returns its index.
func (p *plan) addComponent(c component) int {
	for i, have := range p.comps {
		if have.id() == c.id() {
			return i
		}
	}
	p.comps = append(p.comps, c)
	return len(p.comps) - 1
}

// id identifies a component for deduplication across metrics.
func (c component) id() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// zeroFilled reports whether a missing bucket of this component is 0 (not "no data").
func (c component) zeroFilled() bool {
	switch c.Kind {
	case KindCount, KindUniqueUsers, KindSum, "CONVERSION_STARTED", "CONVERSION_CONVERTED":
		return true
	}
	return false
}

// groupKey identifies the requests one SELECT can answer together.
func (p *plan) groupKey() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%s|%s|%s", p.scope.Tenant(), p.rng.From.Format(time.RFC3339Nano), p.rng.To.Format(time.RFC3339Nano),
		p.loc.String(), p.grain, p.path)
	if p.cmp != nil {
		fmt.Fprintf(&b, "|cmp:%s", p.cmp.From.Format(time.RFC3339Nano))
	}
	for _, d := range p.dims {
		b.WriteString("|d:" + d.Path)
	}
	for _, f := range p.filters {
		b.WriteString("|f:" + f.text)
	}
	for _, c := range p.req.Cohorts {
		fmt.Fprintf(&b, "|c:%q:%t", c.CohortID, c.Exclude)
	}
	if p.req.CohortBreakdown != "" {
		fmt.Fprintf(&b, "|cb:%q", p.req.CohortBreakdown)
	}
	if p.conversion || p.req.Limit > 0 {
		fmt.Fprintf(&b, "|own:%p", p) // answered alone
	}
	return b.String()
}

// useInstead is the "; use X instead" tail of a deprecation message.
func useInstead(d *Definition) string {
	if d.Replacement == "" {
		return ""
	}
	return fmt.Sprintf("; use %q instead", d.Replacement)
}

// divide is a / b, nil when either is missing or b is zero.
func divide(a, b *float64) *float64 {
	if a == nil || b == nil || *b == 0 {
		return nil
	}
	v := *a / *b
	return &v
}
