package resolvers

import (
	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/monitors"
)

// toOverlay maps a widget's WidgetOverlayInput (nil stays nil).
func toOverlay(in *model.WidgetOverlayInput) *dashboards.Overlay {
	if in == nil {
		return nil
	}
	out := &dashboards.Overlay{}
	if f := in.Forecast; f != nil {
		out.Forecast = &dashboards.ForecastOverlay{Horizon: f.Horizon, Model: deref(f.Model), Levels: f.Levels, History: deref(f.History)}
	}
	if a := in.Anomalies; a != nil {
		out.Anomalies = &dashboards.AnomalyOverlay{MonitorID: deref(a.MonitorID), Detector: deref(a.Detector)}
		if a.Sensitivity != nil {
			out.Anomalies.Sensitivity = monitors.Sensitivity(*a.Sensitivity)
		}
	}
	return out
}

// toModelOverlay maps a stored overlay (nil stays nil).
func toModelOverlay(o *dashboards.Overlay) *model.WidgetOverlay {
	if o == nil {
		return nil
	}
	out := &model.WidgetOverlay{}
	if f := o.Forecast; f != nil {
		out.Forecast = &model.ForecastOverlay{Horizon: f.Horizon, Model: f.Model, Levels: nonNil(f.Levels), History: f.History}
	}
	if a := o.Anomalies; a != nil {
		out.Anomalies = &model.AnomalyOverlay{MonitorID: ptrIf(a.MonitorID)}
		if a.MonitorID == "" {
			det, sens := a.Detector, model.MonitorSensitivityMedium
			if a.Sensitivity != "" {
				sens = model.MonitorSensitivity(a.Sensitivity)
			}
			out.Anomalies.Detector, out.Anomalies.Sensitivity = &det, &sens
		}
	}
	return out
}

// toModelOverlayData maps a widget's rendered overlay (nil stays nil).
func toModelOverlayData(od *dashboards.OverlayData) *model.WidgetOverlayData {
	if od == nil {
		return nil
	}
	out := &model.WidgetOverlayData{MetricKey: od.MetricKey, Grain: fromGrain(od.Grain),
		Forecast: make([]*model.ForecastSeries, 0, len(od.Forecast)), Anomalies: make([]*model.AnomalySeries, 0, len(od.Anomalies))}
	if od.Error != nil {
		out.Error = &model.WidgetError{Code: od.Error.Code, Message: od.Error.Message}
	}
	for _, f := range od.Forecast {
		s := &model.ForecastSeries{Labels: toLabels(f.Labels), Model: f.Model, Points: make([]*model.ForecastPoint, len(f.Points))}
		for i, p := range f.Points {
			mp := &model.ForecastPoint{Bucket: p.Bucket, Value: p.Value, Intervals: make([]*model.ForecastInterval, len(p.Intervals))}
			for j, iv := range p.Intervals {
				mp.Intervals[j] = &model.ForecastInterval{Level: iv.Level, Lower: iv.Lower, Upper: iv.Upper}
			}
			s.Points[i] = mp
		}
		out.Forecast = append(out.Forecast, s)
	}
	for _, a := range od.Anomalies {
		s := &model.AnomalySeries{Labels: toLabels(a.Labels), Points: make([]*model.AnomalyPoint, len(a.Points))}
		for i, p := range a.Points {
			s.Points[i] = &model.AnomalyPoint{Bucket: p.Bucket, Value: p.Value, Expected: p.Expected, Lower: p.Lower, Upper: p.Upper,
				Score: p.Score, Confidence: p.Confidence, Anomalous: p.Anomalous, Detector: p.Detector, Query: p.Query}
		}
		out.Anomalies = append(out.Anomalies, s)
	}
	return out
}
