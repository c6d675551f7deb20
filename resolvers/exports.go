package resolvers

import (
	"context"

	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
)

// exportSpec maps ExportInput onto an exports.Spec; exactly one source.
func exportSpec(in model.ExportInput) (exports.Spec, error) {
	const op = "resolvers.exportQuery"
	spec := exports.Spec{Format: exports.Format(in.Format), Options: exports.Options{
		Timezone: deref(in.Timezone), Gzip: deref(in.Gzip), FileName: deref(in.FileName)}}
	sources := 0
	for _, given := range []bool{in.MetricKey != nil, in.Events != nil, in.SQL != nil, in.Funnel != nil, in.Retention != nil, in.Paths != nil} {
		if given {
			sources++
		}
	}
	if sources != 1 {
		return spec, errs.Invalid(op, "input", "give exactly one source: metricKey, events, sql, funnel, retention or paths")
	}
	switch {
	case in.Funnel != nil:
		f, err := parseFunnel(in.Funnel)
		if err != nil {
			return spec, journeys.PrefixField(err, "funnel.")
		}
		spec.Journey = &journeys.Query{Funnel: &f}
	case in.Retention != nil:
		r := toRetention(*in.Retention)
		spec.Journey = &journeys.Query{Retention: &r}
	case in.Paths != nil:
		p, err := toPaths(*in.Paths)
		if err != nil {
			return spec, journeys.PrefixField(err, "paths.")
		}
		spec.Journey = &journeys.Query{Paths: &p}
	}
	if in.MetricKey != nil {
		if in.MetricTimeRange == nil {
			return spec, errs.Invalid(op, "input.metricTimeRange", "metricTimeRange is required with metricKey")
		}
		req := metrics.Request{MetricKey: *in.MetricKey, TimeRange: timeSpec(*in.MetricTimeRange), Dimensions: in.MetricDimensions,
			Timezone: deref(in.Timezone), Cohorts: toCohortFilters(in.MetricCohorts), CohortBreakdown: deref(in.MetricCohortBreakdown)}
		if in.MetricGrain != nil {
			req.Grain = toGrain(*in.MetricGrain)
		}
		spec.Metric = &req
	}
	if in.Events != nil {
		spec.Events = &exports.EventsSource{TimeRange: timeSpec(*in.Events.TimeRange), Types: in.Events.Types, Columns: in.Events.Columns}
	}
	if in.SQL != nil {
		spec.SQL = &exports.SQLSource{Query: *in.SQL}
	}
	return spec, nil
}

// toModelExport maps a job; a SUCCEEDED job gets a freshly signed URL.
func (r *Resolver) toModelExport(ctx context.Context, j *exports.Job) (*model.ExportJob, error) {
	out := &model.ExportJob{
		ID: j.ID, Status: model.ExportStatus(j.Status), Format: model.ExportFormat(j.Format), Source: string(j.Source),
		Rows: int64(j.Rows), Bytes: int64(j.Bytes), Error: ptrIf(j.Error), FileName: j.FileName(),
		RequestedBy: j.RequestedBy, CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt,
		URLExpiresAt: j.URLExpiresAt,
	}
	if j.Status == exports.StatusSucceeded {
		url, exp, err := r.ExportService.URL(ctx, j)
		if err != nil {
			return nil, err
		}
		out.URL, out.URLExpiresAt = &url, &exp
	}
	return out, nil
}
