package dashboards

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/respcache"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// RangeAlign is what reports truncate "now" to before they resolve a
// snapshot's window. Renders align relative windows to whole buckets
// instead (timerange.ResolveAligned, see results.go).
const RangeAlign = time.Minute

// Rendering is a dashboard's data for one set of filters and one window.
type Rendering struct {
	Dashboard *Dashboard
	Range     timerange.Range
	// Filters are the effective filters: defaults overridden by the
	// caller's, normalised (sorted, empty ones dropped).
	Filters []metrics.Filter
	// Widgets are in the dashboard's widget order.
	Widgets []*WidgetData
}

// WidgetData is one widget's answer. A failed widget has Error set and
// the results of the metrics that did answer; it never fails the render.
type WidgetData struct {
	WidgetID      string
	WidgetVersion uint64
	// Results are one per metric key, in the widget's order; nil where
	// that metric failed.
	Results []*metrics.Result
	Error   *WidgetError
	// Notices are messages for the viewer (deprecated metrics, filters
	// that do not apply to this widget).
	Notices    []string
	ComputedAt time.Time
	FreshUntil time.Time
	// Cached reports whether this answer came from the cache.
	Cached bool
	// Journey is the answer of a FUNNEL, RETENTION or PATHS widget (nil
	// for metric widgets and when Error is set).
	Journey *journeys.Answer `json:",omitempty"`
	// Overlay is the forecast and anomaly scores of a LINE widget that
	// asks for them (nil otherwise, and when its metric failed).
	Overlay *OverlayData `json:",omitempty"`
	// Insight is an INSIGHT widget's stored chart with what it answered
	// (nil for other widgets and when Error is set).
	Insight *InsightData `json:",omitempty"`
}

// WidgetError is why a widget has no (or partial) data: a client-safe
// message and the GraphQL extensions.code of its kind.
type WidgetError struct {
	Code    string
	Message string
}

// Render answers every widget of the caller's dashboard (by id or slug).
// filters override the dashboard's filter defaults by dimension (a filter
// with no values clears that dimension); timeRange, when not nil,
// replaces the dashboard's default window.
func (s *Service) Render(ctx context.Context, idOrSlug string, filters []metrics.Filter, timeRange *timerange.Spec) (*Rendering, error) {
	const op = "dashboards.Render"
	scope, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.getForRender(ctx, scope, op, idOrSlug)
	if err != nil {
		return nil, err
	}
	loc, err := timerange.Location(d.Timezone, "timezone")
	if err != nil {
		return nil, err
	}
	spec := d.TimeRange
	if timeRange != nil {
		spec = *timeRange
	}
	if spec == (timerange.Spec{}) {
		spec = DefaultTimeRange
	}
	// A window ending now covers the whole buckets it touches (the unit it
	// is written in: days for `last: 30d`), as metricQuery's does: the
	// window, and so every widget's cache key, moves only when a bucket
	// boundary passes, the edge days are whole (live line charts no longer
	// drop to a partial first and last day) and the rollups answer them.
	// It ends after now, so a live render includes the events whose commit
	// woke it.
	now := s.cfg.Now().UTC()
	rng, err := timerange.ResolveAligned(spec, now, timerange.GrainNone, loc, "timeRange")
	if err != nil {
		return nil, err
	}
	if timerange.EndsNow(spec) {
		respcache.Until(ctx, rng.To) // the window moves then
	}
	eff, err := effectiveFilters(op, d.Filters, filters)
	if err != nil {
		return nil, err
	}
	r := &render{s: s, scope: scope, d: d, rng: rng, filters: eff, batch: newBatch(s.loaders().LoadAll), at: now, loc: loc}
	out := &Rendering{Dashboard: d, Range: rng, Filters: eff, Widgets: make([]*WidgetData, len(d.Widgets))}
	ctx = resultcache.WithWaits(ctx, r.batch)
	g := resultcache.NewGroup(ctx)
	for i, w := range d.Widgets {
		g.Go(func() { out.Widgets[i] = r.widget(ctx, w) })
	}
	g.Wait()
	return out, nil
}

// render is the state one Render shares across its widgets.
type render struct {
	s       *Service
	scope   store.Scope
	d       *Dashboard
	rng     timerange.Range
	filters []metrics.Filter
	// batch answers the render's metric requests together.
	batch *batch
	// at is the "now" the window was resolved at, and loc the dashboard's
	// zone: journey widgets with their own range resolve it so.
	at  time.Time
	loc *time.Location
	// journeys runs each distinct journey query of the render once.
	journeys singleflight.Group
	// gens is the metric definitions' generation for versioned widgets.
	gens generations

	defsOnce sync.Once
	defs     map[string]*metrics.Definition
	defsErr  error
}

// widget answers one widget from the cache or, once for all concurrent
// identical renders, from the loader.
func (r *render) widget(ctx context.Context, w Widget) *WidgetData {
	if w.Kind == KindInsight {
		// Its insight may be deleted or erased with no version to follow.
		respcache.Uncacheable(ctx, "dashboards: insight widget")
		return r.computeInsight(ctx, w) // a stored answer: one row read, nothing to cache
	}
	if wd, ok := r.fromResults(ctx, w); ok {
		if wd.Error != nil {
			respcache.Uncacheable(ctx, "dashboards: widget error")
		}
		return wd
	}
	respcache.Uncacheable(ctx, "dashboards: widget not versioned by data (cohorts, no results cache)")
	key := cacheKey(r.scope, r.d, w, r.rng, r.filters)
	if !fresh(ctx) {
		if wd, ok := r.s.cacheGet(ctx, key); ok {
			return wd
		}
	}
	v, _, err := resultcache.Do(ctx, r.s.flights, r.scope.Tenant(), resultKind, key, func(ctx context.Context) (*WidgetData, error) {
		wd := r.compute(ctx, w)
		if wd.Error == nil && (wd.Overlay == nil || wd.Overlay.Error == nil) {
			r.s.cachePut(ctx, key, wd)
		}
		return wd, nil
	})
	if err != nil { // the caller left, or the computation panicked
		return r.failed(w, err)
	}
	cp := *v // callers sharing a flight get their own copy
	return &cp
}

// compute loads every metric of a widget through the render's loader.
func (r *render) compute(ctx context.Context, w Widget) *WidgetData {
	if w.Kind.Journey() {
		return r.computeJourney(ctx, w)
	}
	now := r.s.cfg.Now().UTC()
	wd := &WidgetData{WidgetID: w.ID, WidgetVersion: w.Version, Results: make([]*metrics.Result, len(w.MetricKeys)),
		Notices: []string{}, ComputedAt: now, FreshUntil: now.Add(r.s.cfg.CacheTTL)}
	cohortNotices, err := r.s.checkCohorts(ctx, w)
	if err != nil {
		wd.Error = &WidgetError{Code: errs.KindOf(err).String(), Message: errs.PublicMessage(err)}
		return wd
	}
	wd.Notices = append(wd.Notices, cohortNotices...)
	errsOut := make([]error, len(w.MetricKeys))
	reqs := make([]metrics.Request, len(w.MetricKeys))
	g := resultcache.NewGroup(ctx)
	for i, key := range w.MetricKeys {
		req, skipped, err := r.request(ctx, w, key)
		reqs[i] = req
		if err != nil {
			errsOut[i] = err
			continue
		}
		for _, dim := range skipped {
			wd.Notices = append(wd.Notices, fmt.Sprintf("filter %q does not apply to metric %q", dim, key))
		}
		g.Go(func() { wd.Results[i], errsOut[i] = r.load(ctx, w, req) })
	}
	g.Wait()
	for i, err := range errsOut {
		if err != nil && wd.Error == nil {
			wd.Error = &WidgetError{Code: errs.KindOf(err).String(),
				Message: fmt.Sprintf("metric %q: %s", w.MetricKeys[i], errs.PublicMessage(err))}
		}
		if res := wd.Results[i]; res != nil {
			wd.Notices = append(wd.Notices, res.Notices...)
		}
	}
	if w.Overlay != nil && len(w.MetricKeys) == 1 {
		r.computeOverlay(ctx, w, reqs[0], wd)
	}
	return wd
}

// checkCohorts checks again, at render time, that the widget's cohorts
// are the tenant's (one may have been deleted since the widget was saved)
// and returns the notices for those without members yet; a service
// without Config.Cohorts refuses a widget that names cohorts.
func (s *Service) checkCohorts(ctx context.Context, w Widget) ([]string, error) {
	req := metrics.Request{Cohorts: w.Cohorts, CohortBreakdown: w.CohortBreakdown}
	return metrics.CheckRequestCohorts(ctx, s.cfg.Cohorts, "dashboards.Render", req, "cohorts", "cohortBreakdown")
}

// request is the metric request of one widget metric; skipped lists the
// render filters the metric does not allow (they are left out).
func (r *render) request(ctx context.Context, w Widget, key string) (metrics.Request, []string, error) {
	req := metrics.Request{MetricKey: key, Dimensions: w.Dimensions, Grain: widgetGrain(w), Limit: w.Limit,
		Timezone: r.d.Timezone, TimeRange: timerange.Spec{From: &r.rng.From, To: &r.rng.To},
		Cohorts: w.Cohorts, CohortBreakdown: w.CohortBreakdown}
	if len(r.filters) == 0 {
		return req, nil, nil
	}
	// Only a filtered render needs the definitions (one registry read).
	r.defsOnce.Do(func() { r.defs, r.defsErr = r.s.metricDefs(ctx) })
	if r.defsErr != nil {
		return req, nil, r.defsErr
	}
	def, ok := r.defs[key]
	if !ok {
		return req, nil, errs.E("dashboards.Render", errs.KindNotFound, fmt.Sprintf("metric %q not found", key))
	}
	var skipped []string
	for _, f := range r.filters {
		if slices.ContainsFunc(def.Dimensions, func(d metrics.Dimension) bool { return d.Path == f.Dimension }) {
			req.Filters = append(req.Filters, f)
		} else {
			skipped = append(skipped, f.Dimension)
		}
	}
	return req, skipped, nil
}

// metricDefs indexes the caller's metrics by key.
func (s *Service) metricDefs(ctx context.Context) (map[string]*metrics.Definition, error) {
	out := map[string]*metrics.Definition{}
	after := ""
	for {
		page, err := s.reg.List(ctx, metrics.ListFilter{}, metrics.MaxPageSize, after)
		if err != nil {
			return nil, err
		}
		for _, d := range page.Metrics {
			out[d.Key] = d
		}
		if !page.HasNext {
			return out, nil
		}
		after = page.EndCursor
	}
}

// widgetGrain is the grain a widget asks for: an explicit grain as given;
// otherwise the metric default for time series and a total for the rest.
func widgetGrain(w Widget) metrics.Grain {
	if w.Grain != "" {
		return w.Grain
	}
	switch w.Kind {
	case KindLine, KindArea:
		return ""
	}
	return metrics.GrainTotal
}

// effectiveFilters merges the caller's filters over the defaults by
// dimension and normalises the set: sorted by dimension, multi-values
// sorted and de-duplicated, filters without values dropped.
func effectiveFilters(op string, defaults []FilterDef, given []metrics.Filter) ([]metrics.Filter, error) {
	byDim := map[string]metrics.Filter{}
	for _, f := range defaults {
		byDim[f.Dimension] = metrics.Filter{Dimension: f.Dimension, Op: f.Op, Values: f.Values}
	}
	if len(given) > MaxFilters {
		return nil, errs.Invalid(op, "filters", fmt.Sprintf("at most %d filters", MaxFilters))
	}
	for i, f := range given {
		field := fmt.Sprintf("filters[%d]", i)
		switch {
		case f.Dimension == "":
			return nil, errs.Invalid(op, field+".dimension", field+".dimension is required, e.g. properties.course_id")
		case !slices.Contains(filterOps, f.Op):
			return nil, errs.Invalid(op, field+".op", fmt.Sprintf("%s.op %q is not an operator; use one of %v", field, f.Op, filterOps))
		}
		byDim[f.Dimension] = metrics.Filter{Dimension: f.Dimension, Op: f.Op, Values: f.Values}
	}
	out := []metrics.Filter{}
	for _, f := range byDim {
		if len(f.Values) == 0 {
			continue
		}
		f.Values = slices.Clone(f.Values)
		if f.Op == metrics.OpIn || f.Op == metrics.OpNotIn {
			slices.Sort(f.Values)
			f.Values = slices.Compact(f.Values)
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b metrics.Filter) int { return strings.Compare(a.Dimension, b.Dimension) })
	return out, nil
}
