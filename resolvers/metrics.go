package resolvers

import (
	"context"
	"strings"

	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
)

type loaderKey struct{}

// WithMetricsLoader returns ctx carrying a per-operation metric loader, so
// compatible metricQuery fields of one request share ClickHouse queries.
// The GraphQL handler calls it once per operation.
func (r *Resolver) WithMetricsLoader(ctx context.Context) context.Context {
	if r.MetricQuerier == nil {
		return ctx
	}
	return context.WithValue(ctx, loaderKey{}, metrics.NewLoader(r.MetricQuerier, metrics.LoaderConfig{}))
}

// loadMetric answers through the operation's loader (batched) or, outside
// an operation, directly.
func (r *Resolver) loadMetric(ctx context.Context, req metrics.Request) (*metrics.Result, error) {
	if l, ok := ctx.Value(loaderKey{}).(*metrics.Loader); ok {
		return l.Load(ctx, req)
	}
	return r.MetricQuerier.Query(ctx, req)
}

var valueTypes = map[model.ValueType]metrics.ValueType{
	model.ValueTypeString: metrics.TypeString, model.ValueTypeInt64: metrics.TypeInt64,
	model.ValueTypeFloat64: metrics.TypeFloat64, model.ValueTypeBool: metrics.TypeBool,
}

func toValueType(v model.ValueType) metrics.ValueType { return valueTypes[v] }

func fromValueType(v metrics.ValueType) model.ValueType {
	for m, d := range valueTypes {
		if d == v {
			return m
		}
	}
	return model.ValueTypeString
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptrIf[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func toMetricFilters(in []*model.MetricFilterInput) []metrics.Filter {
	out := make([]metrics.Filter, 0, len(in))
	for _, f := range in {
		mf := metrics.Filter{Dimension: f.Dimension, Op: metrics.Op(strings.ToLower(string(f.Op))), Values: f.Values}
		if f.Type != nil {
			mf.Type = toValueType(*f.Type)
		}
		out = append(out, mf)
	}
	return out
}

func toMetricInput(in model.MetricInput) metrics.Input {
	out := metrics.Input{
		Key: in.Key, Name: in.Name, Description: deref(in.Description), Kind: metrics.Kind(in.Kind),
		EventTypes: in.EventTypes, FirstSeen: deref(in.FirstSeen), Percentile: deref(in.Percentile),
		Numerator: deref(in.Numerator), Denominator: deref(in.Denominator), Expression: deref(in.Expression),
		Base: deref(in.Base), Filters: toMetricFilters(in.Filters), Unit: deref(in.Unit), Format: deref(in.Format),
		Owner: deref(in.Owner), Tags: in.Tags, KeyMetric: deref(in.KeyMetric),
	}
	if in.Value != nil {
		out.Value = &metrics.ValueRef{Path: in.Value.Path, Type: toValueType(in.Value.Type), Scale: deref(in.Value.Scale)}
	}
	if in.Conversion != nil {
		out.Conversion = &metrics.Conversion{StartEvent: in.Conversion.StartEvent, EndEvent: in.Conversion.EndEvent, Window: deref(in.Conversion.Window)}
	}
	for _, d := range in.Dimensions {
		md := metrics.Dimension{Path: d.Path}
		if d.Type != nil {
			md.Type = toValueType(*d.Type)
		}
		out.Dimensions = append(out.Dimensions, md)
	}
	if in.DefaultGrain != nil {
		out.DefaultGrain = toGrain(*in.DefaultGrain)
	}
	return out
}

func toGrain(g model.Grain) metrics.Grain {
	if g == model.GrainNone {
		return metrics.GrainTotal
	}
	return metrics.Grain(g)
}

func fromGrain(g metrics.Grain) model.Grain {
	if g == metrics.GrainTotal || g == "" {
		return model.GrainNone
	}
	return model.Grain(g)
}

func toModelMetric(d *metrics.Definition) *model.Metric {
	if d == nil {
		return nil
	}
	m := &model.Metric{
		ID: d.ID, Key: d.Key, Name: d.Name, Description: d.Description, Kind: model.MetricKind(d.Kind),
		Status: model.MetricStatus(d.Status), EventTypes: nonNil(d.EventTypes), FirstSeen: d.FirstSeen,
		Percentile: ptrIf(d.Percentile), Numerator: ptrIf(d.Numerator), Denominator: ptrIf(d.Denominator),
		Expression: ptrIf(d.Expression), Base: ptrIf(d.Base), DefaultGrain: fromGrain(d.DefaultGrain),
		Unit: d.Unit, Format: d.Format, Owner: d.Owner, Tags: nonNil(d.Tags), KeyMetric: d.KeyMetric,
		Replacement: ptrIf(d.Replacement), Sunset: d.Sunset, Version: int(d.Version),
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, UpdatedBy: d.UpdatedBy,
		Filters: []*model.MetricFilter{}, Dimensions: []*model.MetricDimension{},
	}
	if d.Value != nil {
		m.Value = &model.MetricValue{Path: d.Value.Path, Type: fromValueType(d.Value.Type), Scale: d.Value.Scale}
	}
	if d.Conversion != nil {
		m.Conversion = &model.MetricConversion{StartEvent: d.Conversion.StartEvent, EndEvent: d.Conversion.EndEvent, Window: d.Conversion.Window}
	}
	for _, f := range d.Filters {
		m.Filters = append(m.Filters, &model.MetricFilter{Dimension: f.Dimension, Op: model.FilterOp(strings.ToUpper(string(f.Op))), Values: nonNil(f.Values)})
	}
	for _, dim := range d.Dimensions {
		m.Dimensions = append(m.Dimensions, &model.MetricDimension{Path: dim.Path, Type: fromValueType(dim.Type)})
	}
	return m
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toModelPoint(p metrics.Point) *model.MetricPoint {
	return &model.MetricPoint{Bucket: p.Bucket, Value: p.Value, CompareValue: p.CompareValue, Delta: p.Delta, DeltaPercent: p.DeltaPercent}
}

func toModelResult(res *metrics.Result) *model.MetricQueryResult {
	out := &model.MetricQueryResult{
		Metric: toModelMetric(res.Metric), From: res.Range.From, To: res.Range.To, Grain: fromGrain(res.Grain),
		Dimensions: nonNil(res.Dimensions), Totals: toModelPoint(res.Totals), Notices: append([]string{}, res.Notices...), Path: res.Path, // a copy: res may be a cached answer others share
		Series: make([]*model.MetricSeries, 0, len(res.Series)),
	}
	if res.CompareRange != nil {
		out.CompareFrom, out.CompareTo = &res.CompareRange.From, &res.CompareRange.To
	}
	for _, s := range res.Series {
		ms := &model.MetricSeries{Values: nonNil(s.Values), Total: toModelPoint(s.Total), Points: make([]*model.MetricPoint, len(s.Points))}
		for i, p := range s.Points {
			ms.Points[i] = toModelPoint(p)
		}
		out.Series = append(out.Series, ms)
	}
	return out
}

// metricRequest maps metricQuery arguments onto a metrics.Request.
func metricRequest(id, key *string, dimensions []string, filters []*model.MetricFilterInput, tr model.TimeRange,
	grain *model.Grain, timezone *string, compareTo *model.CompareTo, orderBy *model.MetricOrder, limit *int,
	cohortFilters []*model.CohortFilterInput, cohortBreakdown *string) (metrics.Request, error) {
	const op = "resolvers.metricQuery"
	if (id == nil) == (key == nil) {
		return metrics.Request{}, errs.Invalid(op, "id", "give exactly one of id or key")
	}
	req := metrics.Request{
		MetricID: deref(id), MetricKey: deref(key), Dimensions: dimensions, Filters: toMetricFilters(filters),
		TimeRange: timeSpec(tr), Timezone: deref(timezone), Limit: deref(limit), CohortBreakdown: deref(cohortBreakdown),
	}
	req.Cohorts = toCohortFilters(cohortFilters)
	if grain != nil {
		req.Grain = toGrain(*grain)
	}
	if compareTo != nil {
		req.CompareTo = metrics.Compare(*compareTo)
	}
	if orderBy != nil {
		req.OrderBy = metrics.Order(*orderBy)
	}
	return req, nil
}

// toCohortFilters maps CohortFilterInput (metricQuery, widgets, exports);
// member defaults to true.
func toCohortFilters(in []*model.CohortFilterInput) []metrics.CohortFilter {
	var out []metrics.CohortFilter
	for _, c := range in {
		out = append(out, metrics.CohortFilter{CohortID: c.ID, Exclude: c.Member != nil && !*c.Member})
	}
	return out
}

// cohortNotices checks that the request's cohorts are the tenant's (an
// unknown id is NOT_FOUND naming the field) and returns a notice for each
// cohort without a successful evaluation: it has no members yet.
func (r *Resolver) cohortNotices(ctx context.Context, req metrics.Request) ([]string, error) {
	var c metrics.CohortChecker
	if r.CohortService != nil {
		c = r.CohortService
	}
	return metrics.CheckRequestCohorts(ctx, c, "resolvers.metricQuery", req, "cohorts", "cohortBreakdown")
}
