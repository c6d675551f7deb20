package main

import (
	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/privacy"
)

// openInsights builds the insight service: the built-in analyst over the
// metric layer, the ad-hoc SQL sandbox (run_sql, same limits as
// eventsQuery), the anomaly detectors and forecasters and the cohorts;
// answers run as Asynq tasks on the insights queue. The AI gateway is on
// when ANALYTICS_AI_URL is set; without it askInsight(engine: GATEWAY) is
// UNAVAILABLE with a message saying so. Its daily token budget counts in
// Redis (shared by every replica); finished insights are announced on the
// bus (analytics.insight.completed.v1).
func (a *app) openInsights(s *services) *insights.Service {
	tools := &insights.Tools{Registry: s.registry, Querier: s.querier, Events: s.events, Cohorts: s.cohorts,
		SQL: adhoc.NewService(a.db, adhoc.Config{MaxResultBytes: a.cfg.AdhocMaxResultBytes, MaxMemoryUsage: a.cfg.AdhocMaxMemory,
			MaxConcurrent: a.cfg.AdhocMaxConcurrent, Logger: a.log})}
	c := a.cfg
	pii := c.PIIKeys
	if len(pii) == 0 {
		pii = privacy.DefaultPIIKeys()
	}
	gw := insights.NewGateway(insights.GatewayConfig{URL: c.AIURL, Model: c.AIModel, APIKey: c.AIAPIKey, Timeout: c.AITimeout,
		DailyTokens: c.AIDailyTokens, PIIKeys: pii, Budget: a.kv})
	return insights.NewService(a.db, tools, s.jobs, insights.Config{Gateway: gw, Bus: a.bus})
}
