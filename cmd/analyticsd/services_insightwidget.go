package main

import (
	"context"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/platform/errs"
)

// lateInsights lets dashboards read the charts INSIGHT widgets pin from the
// insight service, which is built after them (it needs the registry,
// cohorts and jobs the dashboards are built beside).
type lateInsights struct{ svc *insights.Service }

func (l *lateInsights) InsightSnapshot(ctx context.Context, id string) (*dashboards.InsightSnapshot, error) {
	if l.svc == nil {
		return nil, errs.E("dashboards.insight", errs.KindUnavailable, "insights are not available on this server")
	}
	return l.svc.InsightSnapshot(ctx, id)
}
