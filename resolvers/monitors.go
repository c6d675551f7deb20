package resolvers

import (
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/errs"
)

// toMonitor maps MonitorInput onto a monitors.Monitor (active defaults to true).
func toMonitor(in model.MonitorInput) monitors.Monitor {
	m := monitors.Monitor{
		Name: deref(in.Name), MetricKey: in.MetricKey, Filters: toMetricFilters(in.Filters), Dimensions: in.Dimensions,
		TopN: deref(in.TopN), Grain: metrics.Grain(in.Grain), Detector: deref(in.Detector), Threshold: deref(in.Threshold),
		MinHistory: deref(in.MinHistory), Active: in.Active == nil || *in.Active,
	}
	if len(m.Filters) == 0 {
		m.Filters = nil
	}
	if in.Sensitivity != nil {
		m.Sensitivity = monitors.Sensitivity(*in.Sensitivity)
	}
	if q := in.QuietHours; q != nil {
		m.QuietHours = &monitors.QuietHours{From: q.From, To: q.To, Timezone: deref(q.Timezone)}
	}
	if in.LlmReview != nil {
		m.LLMReview = monitors.LLMReview(*in.LlmReview)
	}
	return m
}

func toModelMonitor(m *monitors.Monitor) *model.Monitor {
	out := &model.Monitor{
		ID: m.ID, Name: m.Name, MetricKey: m.MetricKey, Filters: []*model.MetricFilter{}, Dimensions: nonNil(m.Dimensions),
		TopN: m.EffectiveTopN(), Grain: model.Grain(m.Grain), Detector: m.EffectiveDetector(),
		Sensitivity: model.MonitorSensitivity(m.EffectiveSensitivity()), Threshold: m.EffectiveThreshold(),
		MinHistory: m.EffectiveMinHistory(), Active: m.Active, IsDefault: m.Default, Version: int(m.Version),
		UpdatedAt: m.UpdatedAt, UpdatedBy: m.UpdatedBy, LlmReview: model.MonitorLLMReview(m.EffectiveLLMReview()),
	}
	for _, f := range m.Filters {
		out.Filters = append(out.Filters, &model.MetricFilter{Dimension: f.Dimension, Op: model.FilterOp(strings.ToUpper(string(f.Op))), Values: nonNil(f.Values)})
	}
	if q := m.QuietHours; q != nil {
		tz := q.Timezone
		if tz == "" {
			tz = "UTC"
		}
		out.QuietHours = &model.QuietHours{From: q.From, To: q.To, Timezone: tz}
	}
	return out
}

func toModelRun(r monitors.Run) *model.MonitorRun {
	out := &model.MonitorRun{ScheduledFor: r.ScheduledFor, Kind: r.Kind, Series: r.Series, Scored: r.Scored, Errors: []*model.MonitorRunError{}}
	for _, e := range r.Errors {
		out.Errors = append(out.Errors, &model.MonitorRunError{Series: e.Series, Error: e.Error})
	}
	return out
}

// toAnomalySeries groups scores (ordered by series then bucket, or in
// series order) into one AnomalySeries per series.
func toAnomalySeries(scores []monitors.Score) []*model.AnomalySeries {
	out := []*model.AnomalySeries{}
	index := map[string]*model.AnomalySeries{}
	for _, s := range scores {
		key := labelKey(s.Series)
		series, ok := index[key]
		if !ok {
			series = &model.AnomalySeries{Labels: toLabels(s.Series), Points: []*model.AnomalyPoint{}}
			index[key] = series
			out = append(out, series)
		}
		series.Points = append(series.Points, &model.AnomalyPoint{Bucket: s.Bucket, Value: s.Value, Expected: finite(s.Expected),
			Lower: finite(s.Lower), Upper: finite(s.Upper), Score: s.Score, Confidence: s.Confidence, Anomalous: s.Anomalous,
			Detector: s.Detector, Query: s.Query, Review: toAnomalyReview(s.Review)})
	}
	return out
}

// toAnomalyReview maps a bucket's LLM review (nil for none).
func toAnomalyReview(r *monitors.Review) *model.AnomalyReview {
	if r == nil {
		return nil
	}
	out := &model.AnomalyReview{Mode: model.MonitorLLMReview(r.Mode), Status: model.AnomalyReviewStatus(r.Status), Reason: r.Reason,
		Model: r.Model, Anomalous: r.Anomalous, ReviewedAt: r.ReviewedAt}
	if r.Status == monitors.ReviewReviewed {
		v, e := model.AnomalyVerdict(r.Verdict), r.Explanation
		out.Verdict, out.Explanation = &v, &e
	}
	if r.Reranked() {
		out.ReviewedConfidence = finite(r.Confidence)
	}
	return out
}

func toForecastSeries(fcs []monitors.SeriesForecast) []*model.ForecastSeries {
	out := make([]*model.ForecastSeries, 0, len(fcs))
	for _, f := range fcs {
		s := &model.ForecastSeries{Labels: toLabels(f.Series), Model: f.Model, Points: make([]*model.ForecastPoint, len(f.Point))}
		for i := range f.Point {
			p := &model.ForecastPoint{Bucket: f.Buckets[i], Value: f.Point[i], Intervals: make([]*model.ForecastInterval, len(f.Intervals))}
			for j, iv := range f.Intervals {
				p.Intervals[j] = &model.ForecastInterval{Level: iv.Level, Lower: iv.Lower[i], Upper: iv.Upper[i]}
			}
			s.Points[i] = p
		}
		out = append(out, s)
	}
	return out
}

// toLabels lists a series' labels ordered by dimension.
func toLabels(labels map[string]string) []*model.SeriesLabel {
	out := []*model.SeriesLabel{}
	for _, d := range slices.Sorted(maps.Keys(labels)) {
		out = append(out, &model.SeriesLabel{Dimension: d, Value: labels[d]})
	}
	return out
}

func labelKey(labels map[string]string) string {
	var b strings.Builder
	for _, l := range toLabels(labels) {
		b.WriteString(l.Dimension + "\x00" + l.Value + "\x00")
	}
	return b.String()
}

// finite is v, or nil when v is NaN or infinite (GraphQL has no NaN).
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// anomalyRequest maps MetricAnomaliesInput with a metricKey.
func anomalyRequest(in model.MetricAnomaliesInput) monitors.AnomalyRequest {
	req := monitors.AnomalyRequest{Series: monitors.Series{MetricKey: deref(in.MetricKey), Filters: toMetricFilters(in.Filters),
		Dimensions: in.Dimensions, TopN: deref(in.TopN)}, Detector: deref(in.Detector)}
	if in.Grain != nil {
		req.Grain = metrics.Grain(*in.Grain)
	}
	if in.Sensitivity != nil {
		req.Sensitivity = monitors.Sensitivity(*in.Sensitivity)
	}
	if in.TimeRange != nil {
		req.TimeRange = timeSpec(*in.TimeRange)
	}
	return req
}

// checkAnomalyInput requires exactly one of monitorId and metricKey.
func checkAnomalyInput(in model.MetricAnomaliesInput) error {
	if (in.MonitorID == nil) == (in.MetricKey == nil) {
		return errs.Invalid("resolvers.metricAnomalies", "monitorId", "give exactly one of monitorId (stored scores) or metricKey (scored now)")
	}
	return nil
}
