package insights

import (
	"context"

	"github.com/learnhub/analytics-service/dashboards"
)

// InsightSnapshot is an insight of the caller's tenant as a dashboard
// widget (or a report of that dashboard) shows one of its charts: the
// question, status, confidence, grounding, when it was asked and the
// stored charts. Another tenant's insight is KindNotFound, as in Get.
func (s *Service) InsightSnapshot(ctx context.Context, id string) (*dashboards.InsightSnapshot, error) {
	in, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &dashboards.InsightSnapshot{ID: in.ID, Question: in.Question, Status: string(in.Status), AsOf: in.CreatedAt,
		Charts: []dashboards.InsightChart{}}
	a := in.Answer
	if a == nil {
		return out, nil
	}
	out.ConfidenceLevel, out.ConfidenceScore, out.Grounding = a.Confidence.Level, a.Confidence.Score, a.Grounding.Status
	for _, c := range a.Charts {
		dc := dashboards.InsightChart{Type: c.Type, Title: c.Title, X: c.X, Evidence: c.Evidence, Series: []dashboards.InsightSeries{}}
		for _, se := range c.Series {
			dc.Series = append(dc.Series, dashboards.InsightSeries{Name: se.Name, X: se.X, Y: se.Y, YLabel: se.YLabel})
		}
		out.Charts = append(out.Charts, dc)
	}
	return out, nil
}
