package monitors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/anomaly"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// Forecast and on-the-fly anomaly limits.
const (
	// DefaultForecastHistory is the history a forecast fits on when none
	// is given, in buckets of its grain.
	DefaultForecastHistory = 180
	// MaxForecastHistory bounds ForecastRequest.History.
	MaxForecastHistory = 2000
)

// Series is the metric slice one analysis applies to.
type Series struct {
	MetricKey  string
	Filters    []metrics.Filter
	Dimensions []string
	TopN       int           // series kept per dimension value; 0 means DefaultTopN
	Grain      metrics.Grain // empty means DAY
}

// ForecastRequest asks for a forecast of a metric's series.
type ForecastRequest struct {
	Series
	// Horizon is the number of buckets forecast, 1…anomaly.MaxHorizon.
	Horizon int
	// Model is an anomaly.Models() name; empty means the default ensemble.
	Model string
	// Levels are interval levels in percent; nil means 80 and 95.
	Levels []float64
	// History is how many buckets before now the model fits on; zero
	// means DefaultForecastHistory.
	History int
}

// SeriesForecast is the forecast of one series.
type SeriesForecast struct {
	Series map[string]string
	Model  string
	// Buckets are the starts of the forecast buckets, after the last
	// complete one.
	Buckets   []time.Time
	Point     []float64
	Intervals []anomaly.Interval
}

// Forecast fits the model on each series' history (the complete buckets
// before now) and forecasts Horizon buckets with intervals. A series too
// short for the model is a KindInvalid error naming history.
func (s *Service) Forecast(ctx context.Context, req ForecastRequest) ([]SeriesForecast, error) {
	const op = "monitors.Forecast"
	if req.Horizon < 1 || req.Horizon > anomaly.MaxHorizon {
		return nil, errs.Invalid(op, "horizon", fmt.Sprintf("horizon: %d buckets; use 1 to %d", req.Horizon, anomaly.MaxHorizon))
	}
	if req.History == 0 {
		req.History = DefaultForecastHistory
	}
	if req.History < 2 || req.History > MaxForecastHistory {
		return nil, errs.Invalid(op, "history", fmt.Sprintf("history: %d buckets; use 2 to %d", req.History, MaxForecastHistory))
	}
	model := req.Model
	if model == "" {
		model = anomaly.DefaultModel
	}
	levels := req.Levels
	if levels == nil {
		levels = anomaly.DefaultLevels()
	}
	m, err := s.transient(ctx, req.Series, "")
	if err != nil {
		return nil, err
	}
	end := m.Grain.Truncate(s.cfg.Now().UTC(), time.UTC)
	from := end
	for range req.History {
		from = prev(m.Grain, from)
	}
	res, err := s.queryOne(ctx, m.request(timerange.Range{From: from, To: end}))
	if err != nil {
		return nil, err
	}
	def, err := s.defs.GetByKey(ctx, m.MetricKey)
	if err != nil {
		return nil, err
	}
	counts := def.Kind == metrics.KindCount || def.Kind == metrics.KindUniqueUsers
	out := []SeriesForecast{}
	for _, series := range res.Series {
		labels := labelsOf(res, series)
		y := filled(series.Points)
		fc, err := anomaly.Run(model, y, req.Horizon, levels, anomaly.Options{Seasons: anomaly.SeasonsForGrain(string(m.Grain))})
		if err == nil && counts {
			floorAtZero(&fc)
		}
		if err != nil {
			var e *errs.Error
			if errors.As(err, &e) && e.Kind == errs.KindInvalid {
				field, _ := e.Fields["field"].(string)
				return nil, errs.Invalid(op, field, fmt.Sprintf("series %s: %s", seriesKey(labels), e.Msg))
			}
			return nil, err
		}
		sf := SeriesForecast{Series: labels, Model: fc.Model, Point: fc.Point, Intervals: fc.Intervals}
		b := end
		for range req.Horizon {
			sf.Buckets = append(sf.Buckets, b)
			b = m.Grain.Next(b)
		}
		out = append(out, sf)
	}
	return out, nil
}

// AnomalyRequest asks for the anomaly scores of a metric computed now, by
// replaying a detector over its history (nothing is stored).
type AnomalyRequest struct {
	Series
	Detector    string
	Sensitivity Sensitivity
	TimeRange   timerange.Spec
}

// Anomalies scores every bucket of the metric's series in the time range:
// the detector is replayed from history() buckets before the range's end,
// so its verdicts are the ones a monitor evaluating then would store.
func (s *Service) Anomalies(ctx context.Context, req AnomalyRequest) ([]Score, error) {
	m, err := s.transient(ctx, req.Series, req.Detector)
	if err != nil {
		return nil, err
	}
	if req.Sensitivity != "" {
		if _, ok := thresholds[req.Sensitivity]; !ok {
			return nil, errs.Invalid("monitors.Anomalies", "sensitivity", fmt.Sprintf("sensitivity: %q is not one of LOW, MEDIUM, HIGH", req.Sensitivity))
		}
		m.Sensitivity = req.Sensitivity
	}
	now := s.cfg.Now().UTC()
	r, err := timerange.Resolve(req.TimeRange, now, "timeRange")
	if err != nil {
		return nil, err
	}
	from := m.Grain.Truncate(r.From, time.UTC)
	to := r.To
	if last := m.Grain.Truncate(now, time.UTC); last.Before(to) {
		to = last // the current bucket is not complete
	}
	if !to.After(from) {
		return []Score{}, nil
	}
	// The detector replays the history() buckets before to, as the
	// monitor evaluating to would (a window a monitor can always read,
	// inside the hot horizon), or from the range's start if earlier.
	warm := m.window(to).From
	if from.Before(warm) {
		warm = from
	}
	res, err := s.queryOne(ctx, m.request(timerange.Range{From: warm, To: to}))
	if err != nil {
		return nil, err
	}
	sc, serrs := scoreResult(m, res, from, now)
	if len(serrs) > 0 {
		return nil, errs.E("monitors.Anomalies", errs.KindInternal, "series "+serrs[0].Series+": "+serrs[0].Error)
	}
	if sc == nil {
		sc = []Score{}
	}
	return sc, nil
}

// transient validates an ad-hoc series as a monitor that is never stored.
func (s *Service) transient(ctx context.Context, in Series, detector string) (*Monitor, error) {
	const op = "monitors.validate"
	if in.Grain == "" {
		in.Grain = GrainDay
	}
	if in.MetricKey == "" {
		return nil, errs.Invalid(op, "metricKey", "metricKey is required: the key of one of your metrics, e.g. course_completions")
	}
	if _, err := s.defs.GetByKey(ctx, in.MetricKey); errs.Is(err, errs.KindNotFound) {
		return nil, errs.Invalid(op, "metricKey", fmt.Sprintf("metricKey: no metric %q is defined for your tenant; list them with the metrics query", in.MetricKey))
	} else if err != nil {
		return nil, err
	}
	if err := checkGrain(in.Grain, "grain"); err != nil {
		return nil, err
	}
	if detector != "" {
		if _, err := anomaly.NewDetector(detector); err != nil {
			return nil, errs.Invalid(op, "detector", fmt.Sprintf("detector: unknown detector %q; use one of %s", detector, strings.Join(anomaly.DetectorNames(), ", ")))
		}
	}
	if len(in.Dimensions) > MaxDimensions {
		return nil, errs.Invalid(op, "dimensions", fmt.Sprintf("dimensions: at most %d", MaxDimensions))
	}
	if in.TopN < 0 || in.TopN > MaxTopN {
		return nil, errs.Invalid(op, "topN", fmt.Sprintf("topN: %d; use 1 to %d (0 means %d)", in.TopN, MaxTopN, DefaultTopN))
	}
	return &Monitor{ID: "adhoc", MetricKey: in.MetricKey, Filters: in.Filters, Dimensions: in.Dimensions, TopN: in.TopN,
		Grain: in.Grain, Detector: detector, Sensitivity: SensitivityMedium, Active: true}, nil
}

// queryOne runs one request.
func (s *Service) queryOne(ctx context.Context, req metrics.Request) (*metrics.Result, error) {
	res, qerrs := s.query.QueryBatch(ctx, []metrics.Request{req})
	return res[0], qerrs[0]
}

// labelsOf maps a series' dimension values to their dimensions.
func labelsOf(res *metrics.Result, series metrics.Series) map[string]string {
	labels := map[string]string{}
	for j, d := range res.Dimensions {
		if j < len(series.Values) {
			labels[d] = series.Values[j]
		}
	}
	return labels
}

// filled is the series' values with a bucket without a value (an average
// of nothing) carrying the previous value; leading empty buckets are
// dropped.
func filled(points []metrics.Point) []float64 {
	var y []float64
	for _, p := range points {
		switch {
		case p.Value != nil:
			y = append(y, *p.Value)
		case len(y) > 0:
			y = append(y, y[len(y)-1])
		}
	}
	return y
}

// prev is the start of the bucket before start.
func prev(g metrics.Grain, start time.Time) time.Time {
	if g == GrainHour {
		return start.Add(-time.Hour)
	}
	return start.AddDate(0, 0, -1)
}

// floorAtZero cuts a count's forecast and interval bounds at zero: the
// models are Gaussian around the series, but a number of events or of
// learners is never negative, and a band below zero only misleads.
func floorAtZero(fc *anomaly.Forecast) {
	for i := range fc.Point {
		fc.Point[i] = max(fc.Point[i], 0)
	}
	for _, iv := range fc.Intervals {
		for i := range iv.Lower {
			iv.Lower[i] = max(iv.Lower[i], 0)
			iv.Upper[i] = max(iv.Upper[i], 0)
		}
	}
}
