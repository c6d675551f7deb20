package dashboards

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// Limits of a dashboard.
const (
	MaxWidgets          = 50
	MaxWidgetMetrics    = 5
	MaxFilters          = 20
	MaxTitleLength      = 200
	MaxDescriptionBytes = 4000
)

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// filterOps are the operators a dashboard filter may use; the metric's
// dimension type is checked again when a widget queries.
var filterOps = []metrics.Op{metrics.OpEq, metrics.OpNeq, metrics.OpIn, metrics.OpNotIn, metrics.OpGt,
	metrics.OpGte, metrics.OpLt, metrics.OpLte, metrics.OpContains, metrics.OpStartsWith}

// metricLookup finds the caller's metric by key (metrics.Registry.GetByKey).
type metricLookup func(ctx context.Context, key string) (*metrics.Definition, error)

// validateInput checks the dashboard-level fields.
func validateInput(op string, in Input, now time.Time) error {
	switch {
	case !slugRe.MatchString(in.Slug):
		return errs.Invalid(op, "slug", fmt.Sprintf("slug %q must be 1–64 lowercase letters, digits and '-', starting with a letter or digit, e.g. learner-progress", in.Slug))
	case in.Title == "" || len(in.Title) > MaxTitleLength:
		return errs.Invalid(op, "title", fmt.Sprintf("title must be 1–%d characters", MaxTitleLength))
	case len(in.Description) > MaxDescriptionBytes:
		return errs.Invalid(op, "description", fmt.Sprintf("description is longer than %d bytes", MaxDescriptionBytes))
	case in.Layout.Columns < 0 || in.Layout.Columns > 48:
		return errs.Invalid(op, "layout.columns", fmt.Sprintf("layout.columns %d must be between 1 and 48 (0 means %d)", in.Layout.Columns, DefaultColumns))
	case len(in.Filters) > MaxFilters:
		return errs.Invalid(op, "filters", fmt.Sprintf("a dashboard has at most %d filters", MaxFilters))
	}
	loc, err := timerange.Location(in.Timezone, "timezone")
	if err != nil {
		return err
	}
	if in.TimeRange != (timerange.Spec{}) {
		if _, err := timerange.ResolveIn(in.TimeRange, now, loc, "timeRange"); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for i, f := range in.Filters {
		field := fmt.Sprintf("filters[%d]", i)
		switch {
		case f.Dimension == "":
			return errs.Invalid(op, field+".dimension", field+".dimension is required, e.g. properties.course_id")
		case seen[f.Dimension]:
			return errs.Invalid(op, field+".dimension", fmt.Sprintf("%s.dimension %q is already a filter of this dashboard", field, f.Dimension))
		case !slices.Contains(filterOps, f.Op):
			return errs.Invalid(op, field+".op", fmt.Sprintf("%s.op %q is not an operator; use one of %v", field, f.Op, filterOps))
		}
		seen[f.Dimension] = true
	}
	return nil
}

// validateWidget checks a widget: its title, kind and position, then a
// journey widget's query (validateJourney) or a metric widget's metrics
// and cohorts (validateMetrics). field names the widget in errors.
func (s *Service) validateWidget(ctx context.Context, op, field string, w WidgetInput, columns int) error {
	switch {
	case w.Title == "" || len(w.Title) > MaxTitleLength:
		return errs.Invalid(op, field+".title", fmt.Sprintf("%s.title must be 1–%d characters", field, MaxTitleLength))
	case !slices.Contains(widgetKinds, w.Kind):
		return errs.Invalid(op, field+".kind", fmt.Sprintf("%s.kind %q is not a widget kind; use one of %v", field, w.Kind, widgetKinds))
	}
	p := w.Position
	if p.X < 0 || p.Y < 0 || p.W <= 0 || p.H <= 0 || p.X+p.W > columns {
		return errs.Invalid(op, field+".position", fmt.Sprintf(
			"%s.position {x:%d y:%d w:%d h:%d} must have x, y ≥ 0, w, h ≥ 1 and fit the %d columns (x + w ≤ %d)",
			field, p.X, p.Y, p.W, p.H, columns, columns))
	}
	switch {
	case w.Kind == KindInsight:
		return s.validateInsight(ctx, op, field, w)
	case w.Insight != nil:
		return errs.Invalid(op, field+".kind", fmt.Sprintf("%s.kind %s does not show an insight; a pinned insight chart needs kind INSIGHT", field, w.Kind))
	case w.Kind.Journey():
		return s.validateJourney(ctx, op, field, w)
	}
	if w.Journey != nil {
		return errs.Invalid(op, field+".kind", fmt.Sprintf("%s.kind %s shows metrics; a funnel, retention or paths query needs kind FUNNEL, RETENTION or PATHS", field, w.Kind))
	}
	def, err := validateMetrics(ctx, op, field, w, s.reg.GetByKey, s.cfg.Cohorts)
	if err != nil || w.Overlay == nil {
		return err
	}
	return s.validateOverlay(ctx, op, field, w, def)
}

// validateMetrics checks a metric widget against the caller's metrics and
// cohorts: every key exists and allows every dimension, every cohort is
// the tenant's. It returns the first metric's definition.
func validateMetrics(ctx context.Context, op, field string, w WidgetInput, lookup metricLookup, cohorts metrics.CohortChecker) (*metrics.Definition, error) {
	split := len(w.Dimensions)
	if w.CohortBreakdown != "" {
		split++
	}
	switch {
	case len(w.MetricKeys) == 0 || len(w.MetricKeys) > MaxWidgetMetrics:
		return nil, errs.Invalid(op, field+".metricKeys", fmt.Sprintf("%s.metricKeys needs 1–%d metric keys, got %d", field, MaxWidgetMetrics, len(w.MetricKeys)))
	case len(w.Dimensions) > metrics.MaxRequestDimensions:
		return nil, errs.Invalid(op, field+".dimensions", fmt.Sprintf("%s.dimensions has at most %d dimensions", field, metrics.MaxRequestDimensions))
	case split > metrics.MaxRequestDimensions:
		return nil, errs.Invalid(op, field+".cohortBreakdown", fmt.Sprintf("%s: a cohort breakdown counts as a dimension; at most %d in all", field, metrics.MaxRequestDimensions))
	case w.Kind == KindPie && split != 1:
		return nil, errs.Invalid(op, field+".dimensions", fmt.Sprintf("%s: a PIE widget slices by exactly one dimension or the cohort breakdown, got %d", field, split))
	case w.Limit < 0 || w.Limit > metrics.MaxLimit:
		return nil, errs.Invalid(op, field+".limit", fmt.Sprintf("%s.limit %d must be between 0 and %d", field, w.Limit, metrics.MaxLimit))
	case w.Kind == KindKPI && w.Grain != "" && w.Grain != metrics.GrainTotal:
		return nil, errs.Invalid(op, field+".grain", fmt.Sprintf("%s: a KPI widget shows a total; leave grain empty", field))
	}
	if w.Grain != metrics.GrainTotal {
		if _, err := timerange.ParseGrain(string(w.Grain), field+".grain"); err != nil {
			return nil, err
		}
	}
	req := metrics.Request{Cohorts: w.Cohorts, CohortBreakdown: w.CohortBreakdown}
	if _, err := metrics.CheckRequestCohorts(ctx, cohorts, op, req, field+".cohorts", field+".cohortBreakdown"); err != nil {
		return nil, err
	}
	var first *metrics.Definition
	for i, key := range w.MetricKeys {
		def, err := lookup(ctx, key)
		if errs.Is(err, errs.KindNotFound) {
			return nil, errs.Invalid(op, fmt.Sprintf("%s.metricKeys[%d]", field, i), fmt.Sprintf("%s.metricKeys[%d] %q is not a metric of this tenant", field, i, key))
		}
		if err != nil {
			return nil, err
		}
		if i == 0 {
			first = def
		}
		for j, dim := range w.Dimensions {
			if !slices.ContainsFunc(def.Dimensions, func(d metrics.Dimension) bool { return d.Path == dim }) {
				return nil, errs.Invalid(op, fmt.Sprintf("%s.dimensions[%d]", field, j), fmt.Sprintf(
					"%s.dimensions[%d] %q is not allowed by metric %q; use one of %v", field, j, dim, key, dimPaths(def)))
			}
		}
	}
	return first, nil
}

// dimPaths lists a metric's allowed dimension paths.
func dimPaths(def *metrics.Definition) []string {
	out := make([]string, len(def.Dimensions))
	for i, d := range def.Dimensions {
		out[i] = d.Path
	}
	return out
}

// columnsOf is the layout width with its default.
func columnsOf(l Layout) int {
	if l.Columns == 0 {
		return DefaultColumns
	}
	return l.Columns
}
