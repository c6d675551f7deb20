package main

import (
	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/insights"
)

// openInsights builds the insight service: the built-in analyst over the
// metric layer, the ad-hoc SQL sandbox (run_sql, same limits as
// eventsQuery), the anomaly detectors and forecasters and the cohorts;
// answers run as Asynq tasks on the insights queue. The AI gateway is not
// built yet: askInsight(engine: GATEWAY) is UNAVAILABLE with a message.
func (a *app) openInsights(s *services) *insights.Service {
	tools := &insights.Tools{Registry: s.registry, Querier: s.querier, Events: s.events, Cohorts: s.cohorts,
		SQL: adhoc.NewService(a.db, adhoc.Config{MaxResultBytes: a.cfg.AdhocMaxResultBytes, MaxMemoryUsage: a.cfg.AdhocMaxMemory,
			MaxConcurrent: a.cfg.AdhocMaxConcurrent, Logger: a.log})}
	return insights.NewService(a.db, tools, s.jobs, insights.Config{})
}
