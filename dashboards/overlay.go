package dashboards

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/learnhub/analytics-service/anomaly"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// A LINE widget may ask for an overlay: a forecast band after its last
// complete bucket and anomaly markers on its buckets. Both come from the
// monitors service (the code metricForecast and metricAnomalies run; this
// package computes nothing itself), are part of the widget's data and are
// cached with it under the same key. Monitors score HOUR and DAY buckets in
// UTC, so an overlay widget shows one metric at one of those grains, and
// a render of a dashboard in another zone says so in a notice. An overlay
// that fails sets OverlayData.Error; the widget's lines are still shown.

// Limits of an overlay.
const (
	// MaxOverlayHorizon bounds Overlay.Forecast.Horizon: a year of days,
	// or about two weeks of hours.
	MaxOverlayHorizon = 366
	// MaxOverlayLevels bounds Overlay.Forecast.Levels.
	MaxOverlayLevels = 3
)

// Monitors answers a widget's overlay for the caller's tenant
// (*monitors.Service implements it).
type Monitors interface {
	Get(ctx context.Context, id string) (*monitors.Monitor, error)
	Forecast(ctx context.Context, req monitors.ForecastRequest) ([]monitors.SeriesForecast, error)
	Anomalies(ctx context.Context, req monitors.AnomalyRequest) ([]monitors.Score, error)
	MonitorScores(ctx context.Context, monitorID string, spec timerange.Spec) (*monitors.Monitor, []monitors.Score, error)
}

// Overlay is what a LINE widget draws over its series: at least one of
// a forecast and anomaly markers.
type Overlay struct {
	Forecast  *ForecastOverlay `json:",omitempty"`
	Anomalies *AnomalyOverlay  `json:",omitempty"`
}

// ForecastOverlay asks for a forecast of the widget's series.
type ForecastOverlay struct {
	// Horizon is the number of buckets forecast, 1…MaxOverlayHorizon.
	Horizon int
	// Model is an anomaly.Models() name; empty means the default ensemble.
	Model string `json:",omitempty"`
	// Levels are interval levels in percent; nil means 80 and 95.
	Levels []float64 `json:",omitempty"`
	// History is the buckets fitted on; zero means monitors.DefaultForecastHistory.
	History int `json:",omitempty"`
}

// AnomalyOverlay asks for per-bucket anomaly scores: the stored scores of
// a monitor of the same metric and grain, or (without MonitorID) a
// detector replayed now over the widget's series.
type AnomalyOverlay struct {
	MonitorID string `json:",omitempty"`
	// Detector is an anomaly.DetectorNames() name; empty means the default.
	Detector string `json:",omitempty"`
	// Sensitivity applies with Detector; empty means MEDIUM.
	Sensitivity monitors.Sensitivity `json:",omitempty"`
}

// OverlayData is a widget's overlay in its render.
type OverlayData struct {
	MetricKey string
	Grain     metrics.Grain
	// Forecast is one entry per series, when the overlay asks for one.
	Forecast []ForecastSeries
	// Anomalies are the scored buckets of the window, per series.
	Anomalies []AnomalySeries
	// Error is why (part of) the overlay is missing.
	Error *WidgetError `json:",omitempty"`
}

// ForecastSeries is the forecast of one series.
type ForecastSeries struct {
	Labels map[string]string
	Model  string
	Points []ForecastPoint
}

// ForecastPoint is one forecast bucket.
type ForecastPoint struct {
	Bucket    time.Time
	Value     float64
	Intervals []Interval // in the order of the levels asked for
}

// Interval is a central prediction interval.
type Interval struct {
	Level, Lower, Upper float64
}

// AnomalySeries is the scored buckets of one series, oldest first.
type AnomalySeries struct {
	Labels map[string]string
	Points []AnomalyPoint
}

// AnomalyPoint is one scored bucket. Expected, Lower and Upper are nil
// while the detector warms up.
type AnomalyPoint struct {
	Bucket                 time.Time
	Value                  float64
	Expected, Lower, Upper *float64 `json:",omitempty"`
	Score, Confidence      float64
	Anomalous              bool
	Detector               string
	// Query is the metric request that produced Value (JSON).
	Query string
}

// validateOverlay checks a widget's overlay on save; field names the
// widget in errors ("widget.overlay.forecast.horizon").
func (s *Service) validateOverlay(ctx context.Context, op, field string, w WidgetInput, def *metrics.Definition) error {
	o := w.Overlay
	f := field + ".overlay"
	switch {
	case s.cfg.Monitors == nil:
		return errs.Invalid(op, f, f+": forecast bands and anomaly markers are not available on this server")
	case o.Forecast == nil && o.Anomalies == nil:
		return errs.Invalid(op, f, f+" needs forecast, anomalies or both; leave overlay out for none")
	case w.Kind != KindLine:
		return errs.Invalid(op, field+".kind", fmt.Sprintf("%s.kind %s: forecast bands and anomaly markers are drawn on LINE widgets", field, w.Kind))
	case len(w.MetricKeys) != 1:
		return errs.Invalid(op, field+".metricKeys", fmt.Sprintf("%s.metricKeys: a widget with an overlay shows one metric, got %d", field, len(w.MetricKeys)))
	case len(w.Dimensions) > monitors.MaxDimensions:
		return errs.Invalid(op, field+".dimensions", fmt.Sprintf("%s.dimensions: a widget with an overlay splits by at most %d dimensions", field, monitors.MaxDimensions))
	case len(w.Cohorts) > 0 || w.CohortBreakdown != "":
		return errs.Invalid(op, field+".cohorts", fmt.Sprintf("%s: forecasts and anomaly scores are not filtered by cohort; remove cohorts and cohortBreakdown or the overlay", field))
	case len(w.Dimensions) > 0 && w.Limit > monitors.MaxTopN:
		return errs.Invalid(op, field+".limit", fmt.Sprintf("%s.limit %d: a widget with an overlay keeps at most %d series", field, w.Limit, monitors.MaxTopN))
	}
	grain := overlayGrain(w, def)
	if grain != monitors.GrainHour && grain != monitors.GrainDay {
		return errs.Invalid(op, field+".grain", fmt.Sprintf("%s.grain %q: forecasts and anomaly scores are computed for HOUR or DAY buckets; set grain to one of them", field, grain))
	}
	if fc := o.Forecast; fc != nil {
		if err := validateForecast(op, f+".forecast", fc); err != nil {
			return err
		}
	}
	if a := o.Anomalies; a != nil {
		return s.validateAnomalies(ctx, op, f+".anomalies", a, w, grain)
	}
	return nil
}

// validateForecast checks a forecast overlay; f is its field path.
func validateForecast(op, f string, fc *ForecastOverlay) error {
	switch {
	case fc.Horizon < 1 || fc.Horizon > MaxOverlayHorizon:
		return errs.Invalid(op, f+".horizon", fmt.Sprintf("%s.horizon %d: forecast 1 to %d buckets", f, fc.Horizon, MaxOverlayHorizon))
	case fc.Model != "" && !slices.Contains(anomaly.Models(), fc.Model):
		return errs.Invalid(op, f+".model", fmt.Sprintf("%s.model %q is not a forecaster; use one of %s", f, fc.Model, strings.Join(anomaly.Models(), ", ")))
	case len(fc.Levels) > MaxOverlayLevels:
		return errs.Invalid(op, f+".levels", fmt.Sprintf("%s.levels: at most %d levels, e.g. [80, 95]", f, MaxOverlayLevels))
	case fc.History != 0 && (fc.History < 2 || fc.History > monitors.MaxForecastHistory):
		return errs.Invalid(op, f+".history", fmt.Sprintf("%s.history %d: fit on 2 to %d buckets (0 means %d)", f, fc.History, monitors.MaxForecastHistory, monitors.DefaultForecastHistory))
	}
	for i, l := range fc.Levels {
		if !(l > 0 && l < 100) {
			return errs.Invalid(op, fmt.Sprintf("%s.levels[%d]", f, i), fmt.Sprintf("%s.levels[%d] %v: a level is a percentage strictly between 0 and 100, e.g. 95", f, i, l))
		}
	}
	return nil
}

// validateAnomalies checks an anomaly overlay; f is its field path. A
// monitor must be the caller tenant's and watch the widget's metric,
// grain and dimensions, so its markers sit on the widget's lines.
func (s *Service) validateAnomalies(ctx context.Context, op, f string, a *AnomalyOverlay, w WidgetInput, grain metrics.Grain) error {
	if a.Sensitivity != "" && !slices.Contains([]monitors.Sensitivity{monitors.SensitivityLow, monitors.SensitivityMedium, monitors.SensitivityHigh}, a.Sensitivity) {
		return errs.Invalid(op, f+".sensitivity", fmt.Sprintf("%s.sensitivity %q is not one of LOW, MEDIUM, HIGH", f, a.Sensitivity))
	}
	if a.MonitorID == "" {
		if a.Detector != "" && !slices.Contains(anomaly.DetectorNames(), a.Detector) {
			return errs.Invalid(op, f+".detector", fmt.Sprintf("%s.detector %q is not a detector; use one of %s", f, a.Detector, strings.Join(anomaly.DetectorNames(), ", ")))
		}
		return nil
	}
	if a.Detector != "" || a.Sensitivity != "" {
		return errs.Invalid(op, f+".monitorId", fmt.Sprintf("%s: give monitorId (its stored scores, with its own detector and sensitivity) or detector and sensitivity, not both", f))
	}
	m, err := s.cfg.Monitors.Get(ctx, a.MonitorID)
	if errs.Is(err, errs.KindNotFound) {
		return errs.Invalid(op, f+".monitorId", fmt.Sprintf("%s.monitorId %q is not a monitor of this tenant; list them with the monitors query", f, a.MonitorID))
	}
	if err != nil {
		return err
	}
	switch {
	case m.MetricKey != w.MetricKeys[0]:
		return errs.Invalid(op, f+".monitorId", fmt.Sprintf("%s.monitorId %q watches metric %q, not the widget's %q", f, a.MonitorID, m.MetricKey, w.MetricKeys[0]))
	case m.Grain != grain:
		return errs.Invalid(op, f+".monitorId", fmt.Sprintf("%s.monitorId %q scores %s buckets; set the widget's grain to %s", f, a.MonitorID, m.Grain, m.Grain))
	case !slices.Equal(m.Dimensions, w.Dimensions):
		return errs.Invalid(op, f+".monitorId", fmt.Sprintf("%s.monitorId %q splits by %v; give the widget the same dimensions (it has %v)", f, a.MonitorID, m.Dimensions, w.Dimensions))
	}
	return nil
}

// overlayGrain is the grain an overlay widget's series have: its own, or
// its metric's default.
func overlayGrain(w WidgetInput, def *metrics.Definition) metrics.Grain {
	if w.Grain != "" {
		return w.Grain
	}
	return def.DefaultGrain
}

// computeOverlay adds a LINE widget's overlay to wd once its metric has
// loaded; req is the metric's request in this render (its filters are the
// ones the series were drawn with).
func (r *render) computeOverlay(ctx context.Context, w Widget, req metrics.Request, wd *WidgetData) {
	res := wd.Results[0]
	if res == nil {
		return // the widget's error says why
	}
	o := w.Overlay
	od := &OverlayData{MetricKey: req.MetricKey, Grain: res.Grain, Forecast: []ForecastSeries{}, Anomalies: []AnomalySeries{}}
	wd.Overlay = od
	if r.d.Timezone != "" && r.d.Timezone != "UTC" && res.Grain == monitors.GrainDay {
		wd.Notices = append(wd.Notices, fmt.Sprintf("forecast and anomaly buckets are UTC days; this dashboard's days are in %s", r.d.Timezone))
	}
	if r.s.cfg.Monitors == nil {
		od.Error = &WidgetError{Code: errs.KindInvalid.String(), Message: "forecast bands and anomaly markers are not available on this server"}
		return
	}
	series := monitors.Series{MetricKey: req.MetricKey, Filters: req.Filters, Dimensions: w.Dimensions, Grain: res.Grain}
	if len(w.Dimensions) > 0 {
		series.TopN = min(w.Limit, monitors.MaxTopN)
	}
	var fcErr, anErr error
	var wg sync.WaitGroup
	if fc := o.Forecast; fc != nil {
		wg.Go(func() {
			var out []monitors.SeriesForecast
			out, fcErr = r.s.cfg.Monitors.Forecast(ctx, monitors.ForecastRequest{Series: series, Horizon: fc.Horizon,
				Model: fc.Model, Levels: fc.Levels, History: fc.History})
			od.Forecast = toForecastSeries(out)
		})
	}
	if a := o.Anomalies; a != nil {
		wg.Go(func() {
			var scores []monitors.Score
			spec := timerange.Spec{From: &r.rng.From, To: &r.rng.To}
			if a.MonitorID != "" {
				_, scores, anErr = r.s.cfg.Monitors.MonitorScores(ctx, a.MonitorID, spec)
			} else {
				scores, anErr = r.s.cfg.Monitors.Anomalies(ctx, monitors.AnomalyRequest{Series: series, Detector: a.Detector,
					Sensitivity: a.Sensitivity, TimeRange: spec})
			}
			od.Anomalies = toAnomalySeries(scores)
		})
	}
	wg.Wait()
	for _, e := range []struct {
		what string
		err  error
	}{{"forecast", fcErr}, {"anomalies", anErr}} {
		if e.err != nil && od.Error == nil {
			od.Error = &WidgetError{Code: errs.KindOf(e.err).String(), Message: e.what + ": " + errs.PublicMessage(e.err)}
		}
	}
}

// toForecastSeries reshapes the monitors' forecasts point by point.
func toForecastSeries(fcs []monitors.SeriesForecast) []ForecastSeries {
	out := make([]ForecastSeries, 0, len(fcs))
	for _, f := range fcs {
		s := ForecastSeries{Labels: f.Series, Model: f.Model, Points: make([]ForecastPoint, len(f.Point))}
		for i := range f.Point {
			p := ForecastPoint{Bucket: f.Buckets[i], Value: f.Point[i], Intervals: make([]Interval, len(f.Intervals))}
			for j, iv := range f.Intervals {
				p.Intervals[j] = Interval{Level: iv.Level, Lower: iv.Lower[i], Upper: iv.Upper[i]}
			}
			s.Points[i] = p
		}
		out = append(out, s)
	}
	return out
}

// toAnomalySeries groups scores (ordered by series then bucket, or in
// series order) into one AnomalySeries per series.
func toAnomalySeries(scores []monitors.Score) []AnomalySeries {
	out := []AnomalySeries{}
	index := map[string]int{}
	for _, sc := range scores {
		key := LabelKey(sc.Series)
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, AnomalySeries{Labels: sc.Series, Points: []AnomalyPoint{}})
		}
		out[i].Points = append(out[i].Points, AnomalyPoint{Bucket: sc.Bucket, Value: sc.Value, Expected: finite(sc.Expected),
			Lower: finite(sc.Lower), Upper: finite(sc.Upper), Score: sc.Score, Confidence: sc.Confidence, Anomalous: sc.Anomalous,
			Detector: sc.Detector, Query: sc.Query})
	}
	return out
}

// LabelKey is a series' labels as one comparable string (to match a
// forecast or scored series with a drawn one).
func LabelKey(labels map[string]string) string {
	var b strings.Builder
	for _, d := range slices.Sorted(maps.Keys(labels)) {
		b.WriteString(d + "\x00" + labels[d] + "\x00")
	}
	return b.String()
}

// finite is &v, or nil when v is NaN or infinite (JSON and GraphQL have no NaN).
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
