package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// Journey widgets (FUNNEL, RETENTION, PATHS) show one journeys.Query
// instead of metrics. They are validated on save by the journeys service
// (every field, the tenant's event types and cohorts, named by their path
// in the widget input), cached and shared between concurrent renders like
// metric widgets (the same cache key and flight), and within one render
// identical journey queries run once. Dashboard filters are metric
// dimension filters; they do not apply to journey widgets, which say so
// in a notice.

// JourneyRunner checks and answers journey queries for the caller's
// tenant (*journeys.Service implements it).
type JourneyRunner = journeys.Runner

// journeyCheckWindow is the window a journey widget without its own time
// range is checked over on save (it follows the dashboard's at render).
const journeyCheckWindow = 30 * 24 * time.Hour

// journeyField is the input field holding a journey widget's query:
// funnel, retention or paths.
func journeyField(k WidgetKind) string { return strings.ToLower(string(k)) }

// validateJourney checks a FUNNEL, RETENTION or PATHS widget: exactly its
// kind's query, no metric fields, its cohorts the tenant's and the query
// itself as the journeys service would run it.
func (s *Service) validateJourney(ctx context.Context, op, field string, w WidgetInput) error {
	name := journeyField(w.Kind)
	prefix := field + "." + name + "."
	switch {
	case s.cfg.Journeys == nil:
		return errs.Invalid(op, field+".kind", fmt.Sprintf("%s.kind %s: journey widgets are not available on this server", field, w.Kind))
	case w.Journey == nil || w.Journey.Kind() != journeys.Kind(w.Kind):
		return errs.Invalid(op, field+"."+name, fmt.Sprintf("%s: a %s widget needs %s.%s and no other query", field, w.Kind, field, name))
	case len(w.MetricKeys) > 0:
		return errs.Invalid(op, field+".metricKeys", fmt.Sprintf("%s.metricKeys: a %s widget shows its %s query, not metrics; leave metricKeys empty", field, w.Kind, name))
	case len(w.Dimensions) > 0:
		return errs.Invalid(op, field+".dimensions", fmt.Sprintf("%s.dimensions: a %s widget is split by %s.breakdown, not by dimensions", field, w.Kind, prefix[:len(prefix)-1]))
	case len(w.Cohorts) > 0 || w.CohortBreakdown != "":
		return errs.Invalid(op, field+".cohorts", fmt.Sprintf("%s: a %s widget keeps the users of %scohorts; leave cohorts and cohortBreakdown empty", field, w.Kind, prefix))
	case w.Grain != "" || w.Limit != 0:
		return errs.Invalid(op, field+".grain", fmt.Sprintf("%s: grain and limit are for metric widgets; a %s widget's periods and sizes are in %s", field, w.Kind, prefix[:len(prefix)-1]))
	}
	if _, err := s.journeyCohorts(ctx, op, *w.Journey, prefix); err != nil {
		return err
	}
	q := *w.Journey
	if q.TimeRange() == (timerange.Spec{}) {
		now := s.cfg.Now().UTC()
		q = q.Over(timerange.Range{From: now.Add(-journeyCheckWindow), To: now}, "")
	}
	return s.cfg.Journeys.Check(ctx, q, prefix)
}

// journeyCohorts checks that every cohort q names is the tenant's (on save
// and again at render: one may have been deleted since) and returns the
// notices for those without members yet.
func (s *Service) journeyCohorts(ctx context.Context, op string, q journeys.Query, prefix string) ([]string, error) {
	refs := q.CohortRefs(prefix)
	if len(refs) == 0 {
		return nil, nil
	}
	if s.cfg.Cohorts == nil {
		return nil, errs.Invalid(op, refs[0].Field, refs[0].Field+": cohorts are not available here on this server")
	}
	return s.cfg.Cohorts.CheckCohorts(ctx, op, refs)
}

// journeyQuery is the query a journey widget runs in this render: over
// its own range (resolved at the render's time, in the dashboard's zone,
// aligned to whole buckets like the render's window) or else the render's
// window.
func (r *render) journeyQuery(w Widget) (journeys.Query, error) {
	q := *w.Journey
	rng := r.rng
	if spec := q.TimeRange(); spec != (timerange.Spec{}) {
		loc := r.loc
		if z := q.TimeZone(); z != "" {
			l, err := timerange.Location(z, journeyField(w.Kind)+".timezone")
			if err != nil {
				return q, err
			}
			loc = l
		}
		own, err := timerange.ResolveAligned(spec, r.at, timerange.GrainNone, loc, journeyField(w.Kind)+".timeRange")
		if err != nil {
			return q, err
		}
		rng = own
	}
	return q.Over(rng, r.d.Timezone), nil
}

// computeJourney answers a journey widget; identical queries of one
// render run once.
func (r *render) computeJourney(ctx context.Context, w Widget) *WidgetData {
	now := r.s.cfg.Now().UTC()
	wd := &WidgetData{WidgetID: w.ID, WidgetVersion: w.Version, Results: []*metrics.Result{},
		Notices: []string{}, ComputedAt: now, FreshUntil: now.Add(r.s.cfg.CacheTTL)}
	fail := func(err error) *WidgetData {
		wd.Error = &WidgetError{Code: errs.KindOf(err).String(), Message: errs.PublicMessage(err)}
		return wd
	}
	if r.s.cfg.Journeys == nil || w.Journey == nil {
		return fail(errs.E("dashboards.Render", errs.KindInvalid, fmt.Sprintf("widget %q: journey widgets are not available on this server", w.Title)))
	}
	notices, err := r.s.journeyCohorts(ctx, "dashboards.Render", *w.Journey, journeyField(w.Kind)+".")
	if err != nil {
		return fail(err)
	}
	wd.Notices = append(wd.Notices, notices...)
	for _, f := range r.filters {
		wd.Notices = append(wd.Notices, fmt.Sprintf("filter %q does not apply to %s widgets", f.Dimension, w.Kind))
	}
	q, err := r.journeyQuery(w)
	if err != nil {
		return fail(err)
	}
	key, _ := json.Marshal(q)
	v, err, _ := r.journeys.Do(string(key), func() (any, error) {
		return r.s.cfg.Journeys.Run(ctx, q, journeyField(w.Kind)+".")
	})
	if err != nil {
		return fail(err)
	}
	wd.Journey = v.(*journeys.Answer)
	return wd
}
