package resolvers

import (
	"fmt"
	"strings"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
)

func toDashboardInput(in model.DashboardInput) dashboards.Input {
	out := dashboards.Input{Slug: in.Slug, Title: in.Title, Description: deref(in.Description), Timezone: deref(in.Timezone),
		Layout: dashboards.Layout{Columns: deref(in.Columns)}}
	if in.TimeRange != nil {
		out.TimeRange = timeSpec(*in.TimeRange)
	}
	for _, f := range in.Filters {
		out.Filters = append(out.Filters, dashboards.FilterDef{Dimension: f.Dimension, Op: metrics.Op(strings.ToLower(string(f.Op))), Values: f.Values, Label: deref(f.Label)})
	}
	return out
}

// toWidgetInput maps a WidgetInput; field names it in errors ("widget",
// "widgets[2]"). The dashboards service checks a journey query's cohorts.
func toWidgetInput(in model.WidgetInput, field string) (dashboards.WidgetInput, error) {
	out := dashboards.WidgetInput{Title: in.Title, Kind: dashboards.WidgetKind(in.Kind), MetricKeys: in.MetricKeys,
		Dimensions: in.Dimensions, Limit: deref(in.Limit), Cohorts: toCohortFilters(in.Cohorts), CohortBreakdown: deref(in.CohortBreakdown),
		Overlay: toOverlay(in.Overlay), Insight: toInsightRef(in.Insight)}
	if in.Grain != nil {
		out.Grain = toGrain(*in.Grain)
	}
	if in.Position != nil {
		out.Position = dashboards.Position{X: in.Position.X, Y: in.Position.Y, W: in.Position.W, H: in.Position.H}
	}
	var q journeys.Query
	if in.Funnel != nil {
		f, err := parseFunnel(in.Funnel)
		if err != nil {
			return out, journeys.PrefixField(err, field+".funnel.")
		}
		q.Funnel = &f
	}
	if in.Retention != nil {
		rq := toRetention(*in.Retention)
		q.Retention = &rq
	}
	if in.Paths != nil {
		pq, err := toPaths(*in.Paths)
		if err != nil {
			return out, journeys.PrefixField(err, field+".paths.")
		}
		q.Paths = &pq
	}
	if q != (journeys.Query{}) {
		out.Journey = &q
	}
	return out, nil
}

// toWidgetInputs maps createDashboard's widgets.
func toWidgetInputs(in []*model.WidgetInput) ([]dashboards.WidgetInput, error) {
	out := make([]dashboards.WidgetInput, len(in))
	for i, w := range in {
		var err error
		if out[i], err = toWidgetInput(*w, fmt.Sprintf("widgets[%d]", i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func toModelDashboard(d *dashboards.Dashboard) *model.Dashboard {
	out := &model.Dashboard{ID: d.ID, Slug: d.Slug, Title: d.Title, Description: d.Description, Timezone: d.Timezone,
		Columns: d.Layout.Columns, Version: int(d.Version), CreatedAt: d.CreatedAt, CreatedBy: d.CreatedBy,
		UpdatedAt: d.UpdatedAt, UpdatedBy: d.UpdatedBy, Filters: []*model.DashboardFilter{}, Widgets: []*model.Widget{}}
	for _, f := range d.Filters {
		label := f.Label
		if label == "" {
			label = f.Dimension
		}
		out.Filters = append(out.Filters, &model.DashboardFilter{Dimension: f.Dimension, Op: model.FilterOp(strings.ToUpper(string(f.Op))), Values: nonNil(f.Values), Label: label})
	}
	for _, w := range d.Widgets {
		mw := &model.Widget{ID: w.ID, Title: w.Title, Kind: model.WidgetKind(w.Kind), MetricKeys: nonNil(w.MetricKeys),
			Dimensions: nonNil(w.Dimensions), Limit: ptrIf(w.Limit), Version: int(w.Version),
			Cohorts: []*model.CohortFilter{}, CohortBreakdown: ptrIf(w.CohortBreakdown), Overlay: toModelOverlay(w.Overlay), Insight: toModelInsightRef(w.Insight),
			Position: &model.WidgetPosition{X: w.Position.X, Y: w.Position.Y, W: w.Position.W, H: w.Position.H}}
		for _, c := range w.Cohorts {
			mw.Cohorts = append(mw.Cohorts, &model.CohortFilter{ID: c.CohortID, Member: !c.Exclude})
		}
		if w.Grain != "" {
			g := fromGrain(w.Grain)
			mw.Grain = &g
		}
		out.Widgets = append(out.Widgets, mw)
	}
	return out
}

func toModelRender(r *dashboards.Rendering) *model.DashboardRender {
	out := &model.DashboardRender{From: r.Range.From, To: r.Range.To, Widgets: make([]*model.WidgetData, 0, len(r.Widgets))}
	for _, w := range r.Widgets {
		wd := &model.WidgetData{WidgetID: w.WidgetID, Notices: nonNil(w.Notices), ComputedAt: w.ComputedAt,
			FreshUntil: w.FreshUntil, Cached: w.Cached, Results: []*model.MetricQueryResult{}, Overlay: toModelOverlayData(w.Overlay),
			Insight: toModelInsightData(w.Insight)}
		if w.Error != nil {
			// As the schema says: no results beside an error (a failed metric's
			// result is nil; the others alone would lose their positions).
			wd.Error = &model.WidgetError{Code: w.Error.Code, Message: w.Error.Message}
		} else {
			for _, res := range w.Results {
				wd.Results = append(wd.Results, toModelResult(res))
			}
		}
		if a := w.Journey; a != nil {
			switch {
			case a.Funnel != nil:
				wd.Funnel = toModelFunnel(a.Funnel)
			case a.Retention != nil:
				wd.Retention = toModelTriangle(a.Retention)
			case a.Paths != nil:
				wd.Paths = toModelPaths(a.Paths)
			}
		}
		out.Widgets = append(out.Widgets, wd)
	}
	return out
}

func expected(op string, v int) (uint64, error) {
	if v < 1 {
		return 0, errs.Invalid(op, "expectedVersion", "expectedVersion must be the version you read (1 or more)")
	}
	return uint64(v), nil
}
