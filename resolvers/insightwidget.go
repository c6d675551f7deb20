package resolvers

import (
	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/graph/model"
)

// toInsightRef maps an INSIGHT widget's input (chart defaults to 0).
func toInsightRef(in *model.InsightWidgetInput) *dashboards.InsightRef {
	if in == nil {
		return nil
	}
	return &dashboards.InsightRef{InsightID: in.InsightID, Chart: deref(in.Chart)}
}

func toModelInsightRef(in *dashboards.InsightRef) *model.InsightWidget {
	if in == nil {
		return nil
	}
	return &model.InsightWidget{InsightID: in.InsightID, Chart: in.Chart}
}

// toModelInsightData maps an INSIGHT widget's render; its chart has the
// shape of Insight.charts.
func toModelInsightData(in *dashboards.InsightData) *model.InsightWidgetData {
	if in == nil {
		return nil
	}
	c := in.Chart
	series := make([]map[string]any, len(c.Series))
	for i, s := range c.Series {
		series[i] = map[string]any{"name": s.Name, "x": nonNil(s.X), "y": nonNil(s.Y)}
		if s.YLabel != "" {
			series[i]["yLabel"] = s.YLabel
		}
	}
	return &model.InsightWidgetData{InsightID: in.InsightID, Question: in.Question, ConfidenceLevel: in.ConfidenceLevel,
		ConfidenceScore: in.ConfidenceScore, Grounding: in.Grounding, AsOf: in.AsOf, ChartIndex: in.ChartIndex,
		Chart: &model.InsightChart{Type: c.Type, Title: c.Title, X: c.X, Series: jsonAny(series), Evidence: c.Evidence}}
}
