package resolvers

import (
	"context"
	"strings"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/reports"
	"github.com/learnhub/analytics-service/store"
)

// toReportInput maps ReportInput onto a reports.Input (the service
// validates it).
func toReportInput(in model.ReportInput) reports.Input {
	out := reports.Input{Name: in.Name, Format: reports.Format(in.Format), Enabled: in.Enabled == nil || *in.Enabled}
	if s := in.Source; s != nil {
		out.Source = reports.Source{Dashboard: deref(s.Dashboard), Filters: toMetricFilters(s.Filters)}
		if len(out.Source.Filters) == 0 {
			out.Source.Filters = nil
		}
		if s.TimeRange != nil {
			out.Source.TimeRange = timeSpec(*s.TimeRange)
		}
		for _, q := range s.Metrics {
			mq := reports.MetricQuery{Title: deref(q.Title), MetricKey: q.MetricKey, Dimensions: q.Dimensions, Limit: deref(q.Limit)}
			if q.Chart != nil {
				mq.Chart = dashboards.WidgetKind(*q.Chart)
			}
			if q.Grain != nil {
				mq.Grain = toGrain(*q.Grain)
			}
			out.Source.Metrics = append(out.Source.Metrics, mq)
		}
	}
	if s := in.Schedule; s != nil {
		out.Schedule = reports.Schedule{Cron: deref(s.Cron), Timezone: deref(s.Timezone)}
		if s.Preset != nil {
			out.Schedule.Preset = reports.Preset(*s.Preset)
		}
	}
	for _, d := range in.Deliveries {
		out.Deliveries = append(out.Deliveries, reports.Delivery{Kind: reports.DeliveryKind(d.Kind), To: d.To, URL: deref(d.URL), Secret: deref(d.Secret)})
	}
	return out
}

// toModelReport maps a report; webhook secrets stay behind.
func (r *Resolver) toModelReport(rep *reports.Report) *model.Report {
	out := &model.Report{ID: rep.ID, Name: rep.Name, Dashboard: ptrIf(rep.Source.Dashboard), Filters: []*model.MetricFilter{},
		Metrics: []*model.ReportMetricQuery{}, Cron: rep.Schedule.Spec(), Timezone: rep.Schedule.Timezone,
		Format: model.ReportFormat(rep.Format), Deliveries: []*model.ReportDelivery{}, Enabled: rep.Enabled, Owner: rep.Owner,
		NextRunAt: r.ReportService.NextRun(rep), Version: int(rep.Version), CreatedAt: rep.CreatedAt, UpdatedAt: rep.UpdatedAt}
	if out.Timezone == "" {
		out.Timezone = "UTC"
	}
	if rep.Schedule.Preset != "" {
		p := model.ReportSchedulePreset(rep.Schedule.Preset)
		out.Preset = &p
	}
	for _, f := range rep.Source.Filters {
		out.Filters = append(out.Filters, &model.MetricFilter{Dimension: f.Dimension, Op: model.FilterOp(strings.ToUpper(string(f.Op))), Values: nonNil(f.Values)})
	}
	for _, q := range rep.Source.Metrics {
		out.Metrics = append(out.Metrics, &model.ReportMetricQuery{Title: q.Title, MetricKey: q.MetricKey, Chart: model.WidgetKind(q.Chart), Dimensions: nonNil(q.Dimensions)})
	}
	for _, d := range rep.Deliveries {
		out.Deliveries = append(out.Deliveries, &model.ReportDelivery{Kind: model.ReportDeliveryKind(d.Kind), To: nonNil(d.To), URL: ptrIf(d.URL)})
	}
	return out
}

// toModelReportRun maps a run; a SUCCEEDED run whose file is still kept
// gets a freshly signed URL.
func (r *Resolver) toModelReportRun(ctx context.Context, run *reports.Run) (*model.ReportRun, error) {
	out := &model.ReportRun{ID: run.ID, ReportID: run.ReportID, Trigger: model.ReportTrigger(run.Trigger), ScheduledFor: run.ScheduledFor,
		Status: model.ReportRunStatus(run.Status), Error: ptrIf(run.Error), StartedAt: run.StartedAt, FinishedAt: run.FinishedAt,
		FileName: run.FileName(), Bytes: int64(run.Bytes), Deliveries: []*model.ReportRunDelivery{}}
	if !run.PeriodFrom.IsZero() {
		out.PeriodFrom, out.PeriodTo = &run.PeriodFrom, &run.PeriodTo
	}
	if run.Status == reports.RunSucceeded && run.ExpiredAt == nil {
		url, exp, err := r.ReportService.URL(ctx, run)
		if err != nil {
			return nil, err
		}
		out.ArtifactURL, out.ArtifactURLExpiresAt = &url, &exp
	}
	for _, d := range run.Deliveries {
		out.Deliveries = append(out.Deliveries, &model.ReportRunDelivery{Kind: model.ReportDeliveryKind(d.Kind), Target: d.Target,
			Status: model.ReportDeliveryStatus(d.Status), Attempts: d.Attempts, LastError: ptrIf(d.LastError),
			LastAttemptAt: d.LastAttemptAt, DeliveredAt: d.DeliveredAt})
	}
	return out, nil
}

// reportPage maps a page of reports.
func (r *Resolver) reportPage(ctx context.Context, first *int, after *string) (*model.ReportConnection, error) {
	pos, err := openAfter(ctx, "resolvers.reports", after)
	if err != nil {
		return nil, err
	}
	page, err := r.ReportService.List(ctx, deref(first), pos)
	if err != nil {
		return nil, err
	}
	c, err := connect(ctx, page.Reports, page.HasNext, after,
		func(rep *reports.Report) string { return store.KeysetCursor(rep.CreatedAt, rep.ID) }, infallible(r.toModelReport),
		func(cur string, n *model.Report) *model.ReportEdge { return &model.ReportEdge{Cursor: cur, Node: n} })
	return &model.ReportConnection{Edges: c.Edges, Nodes: c.Nodes, PageInfo: c.PageInfo}, err
}

// reportRunPage maps a page of a report's runs.
func (r *Resolver) reportRunPage(ctx context.Context, reportID string, first *int, after *string) (*model.ReportRunConnection, error) {
	pos, err := openAfter(ctx, "resolvers.reportRuns", after)
	if err != nil {
		return nil, err
	}
	page, err := r.ReportService.Runs(ctx, reportID, deref(first), pos)
	if err != nil {
		return nil, err
	}
	c, err := connect(ctx, page.Runs, page.HasNext, after,
		func(run *reports.Run) string { return store.KeysetCursor(run.ScheduledFor, run.ID) },
		func(run *reports.Run) (*model.ReportRun, error) { return r.toModelReportRun(ctx, run) },
		func(cur string, n *model.ReportRun) *model.ReportRunEdge {
			return &model.ReportRunEdge{Cursor: cur, Node: n}
		})
	return &model.ReportRunConnection{Edges: c.Edges, Nodes: c.Nodes, PageInfo: c.PageInfo}, err
}
