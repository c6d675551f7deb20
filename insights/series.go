package insights

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/learnhub/analytics-service/anomaly"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
)

// Series tool settings.
const (
	// AnomalyThreshold is the detector score from which a day is flagged
	// (scores are calibrated per series, so one threshold fits all).
	AnomalyThreshold = 0.9
	// minConfidence is the detector confidence a flagged day needs (the
	// warm-up days carry none).
	minConfidence = 0.5
	// MaxForecastDays bounds a forecast horizon.
	MaxForecastDays = 90
)

// Flag is one day the detector found unusual.
type Flag struct {
	Day      time.Time
	Value    float64
	Expected float64
	Score    float64
}

// Anomalies is detect_anomalies' answer.
type Anomalies struct {
	Metric *metrics.Definition
	Period Period // the period asked about
	Window Period // the period with its warm-up days before it
	Days   int    // days of Period
	Flags  []Flag // flagged days of Period, in time order
	// PeriodTotal and BaselineTotal sum the series over Period and over
	// the BaselineDays warm-up days; LevelP is the p-value of equal daily
	// rates (NaN for kinds other than counts).
	PeriodTotal, BaselineTotal float64
	BaselineDays               int
	LevelP                     float64
	Series                     string // evidence id of the daily series
	Detected                   string // evidence id of the detector's verdicts
	Points                     []metrics.Point
}

// Projection is forecast's answer.
type Projection struct {
	Metric   *metrics.Definition
	History  Period
	Horizon  int
	Model    string
	Days     []time.Time
	Point    []float64
	Total    float64 // sum of Point
	Series   string  // evidence id of the history
	Forecast string  // evidence id of the forecast
	Points   []metrics.Point
}

// daily queries key by day over p.
func (s *Session) daily(ctx context.Context, tool, key string, p Period, filters []metrics.Filter) (*metrics.Result, string, error) {
	res, ids, err := s.queryMetrics(ctx, tool, []metrics.Request{{MetricKey: key, TimeRange: spec(p), Grain: "DAY", Filters: filters}})
	if err != nil {
		return nil, "", err
	}
	if len(res[0].Series) == 0 {
		return nil, "", errs.E("insights."+tool, errs.KindNotFound, key+" has no data in "+p.Label)
	}
	return res[0], ids[0], nil
}

// DetectAnomalies is detect_anomalies over p: the default ensemble
// detector runs over the metric's daily series from warmup days before p
// (its history), and days of p scoring AnomalyThreshold or more are
// flagged. For counts it also tests p's level against those warm-up days
// (a Poisson rate test), which finds a shift of a whole period that no
// single day shows.
func (s *Session) DetectAnomalies(ctx context.Context, key string, p Period, warmup int, filters []metrics.Filter) (*Anomalies, error) {
	if err := allow(ctx, ToolDetectAnomalies); err != nil {
		return nil, err
	}
	window := Period{From: p.From.AddDate(0, 0, -warmup), To: p.To}
	window.Label = label(window.From, window.To)
	res, id, err := s.daily(ctx, ToolDetectAnomalies, key, window, filters)
	if err != nil {
		return nil, err
	}
	det, err := anomaly.NewDetector(anomaly.DefaultDetector)
	if err != nil {
		return nil, errs.Wrap("insights.detect_anomalies", errs.KindInternal, err, "")
	}
	out := &Anomalies{Metric: res.Metric, Period: p, Window: window, Series: id, Points: res.Series[0].Points, LevelP: math.NaN()}
	for _, pt := range out.Points {
		v := value(pt.Value)
		d := det.Observe(anomaly.Observation{Time: pt.Bucket, Value: v})
		if pt.Bucket.Before(p.From) {
			out.BaselineTotal += v
			out.BaselineDays++
			continue
		}
		out.PeriodTotal += v
		out.Days++
		if d.Score >= AnomalyThreshold && d.Confidence >= minConfidence && !math.IsNaN(d.Expected) {
			out.Flags = append(out.Flags, Flag{Day: pt.Bucket.UTC(), Value: v, Expected: d.Expected, Score: d.Score})
		}
	}
	if k := res.Metric.Kind; (k == metrics.KindCount || k == metrics.KindUniqueUsers) && out.BaselineDays > 0 && out.Days > 0 {
		out.LevelP = poissonRateP(out.PeriodTotal, float64(out.Days), out.BaselineTotal, float64(out.BaselineDays))
	}
	ev := Evidence{Tool: ToolDetectAnomalies, RanAt: s.t.now(), Rows: len(out.Flags), Labels: []string{anomaly.DefaultDetector}}
	req, _ := json.Marshal(map[string]any{"metric": key, "detector": anomaly.DefaultDetector, "threshold": AnomalyThreshold,
		"period": p, "warmupDays": warmup, "derivedFrom": id})
	ev.Request = string(req)
	add := func(name string, v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			ev.Values = append(ev.Values, Value{Name: name, Value: v})
		}
	}
	add("days", float64(out.Days))
	add("flagged", float64(len(out.Flags)))
	add("period_total", out.PeriodTotal)
	add("baseline_total", out.BaselineTotal)
	add("baseline_days", float64(out.BaselineDays))
	add("period_daily_mean", out.PeriodTotal/float64(out.Days))
	add("baseline_daily_mean", safeDiv(out.BaselineTotal, float64(out.BaselineDays)))
	add("level_change_pct", pct(out.PeriodTotal/float64(out.Days), safeDiv(out.BaselineTotal, float64(out.BaselineDays))))
	add("level_p_value", out.LevelP)
	for _, f := range out.Flags {
		day := f.Day.Format(time.DateOnly)
		add(day+"/expected", f.Expected)
		add(day+"/score", f.Score)
	}
	out.Detected = s.record(ev, 0)
	return out, nil
}

// Forecast is forecast: the default forecaster fitted to the metric's daily
// series over history, projected horizon days.
func (s *Session) Forecast(ctx context.Context, key string, history Period, horizon int, filters []metrics.Filter) (*Projection, error) {
	const op = "insights.forecast"
	if err := allow(ctx, ToolForecast); err != nil {
		return nil, err
	}
	if horizon < 1 || horizon > MaxForecastDays {
		return nil, errs.Invalid(op, "horizon", "a forecast covers 1 to 90 days")
	}
	res, id, err := s.daily(ctx, ToolForecast, key, history, filters)
	if err != nil {
		return nil, err
	}
	pts := res.Series[0].Points
	y := make([]float64, len(pts))
	for i, pt := range pts {
		y[i] = value(pt.Value)
	}
	fc, err := anomaly.Run(anomaly.DefaultModel, y, horizon, []float64{80}, anomaly.Options{Seasons: anomaly.SeasonsForGrain("day")})
	if err != nil {
		return nil, err
	}
	out := &Projection{Metric: res.Metric, History: history, Horizon: horizon, Model: fc.Model, Series: id, Points: pts}
	ev := Evidence{Tool: ToolForecast, RanAt: s.t.now(), Rows: horizon, Labels: []string{fc.Model}}
	req, _ := json.Marshal(map[string]any{"metric": key, "model": anomaly.DefaultModel, "horizon": horizon, "derivedFrom": id})
	ev.Request = string(req)
	for i, v := range fc.Point {
		v = math.Max(v, 0) // counts cannot go below zero
		day := history.To.AddDate(0, 0, i)
		out.Days, out.Point = append(out.Days, day), append(out.Point, v)
		out.Total += v
		ev.Values = append(ev.Values, Value{Name: day.Format(time.DateOnly), Value: v})
	}
	ev.Values = append(ev.Values, Value{Name: "total", Value: out.Total}, Value{Name: "history_days", Value: float64(len(y))},
		Value{Name: "horizon_days", Value: float64(horizon)})
	out.Forecast = s.record(ev, 0)
	return out, nil
}
