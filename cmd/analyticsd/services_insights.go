package main

import (
	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/insights"
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
	// run_sql reads the PII-free relation whoever asks: a computed key
	// or a WHERE probe cannot reach personal data (adhoc.PIIHidden).
	pii := a.piiKeys()
	tools := &insights.Tools{Registry: s.registry, Querier: s.querier, Events: s.events, Cohorts: s.cohorts,
		SQL: adhoc.NewService(a.db, adhoc.Config{MaxResultBytes: a.cfg.AdhocMaxResultBytes, MaxMemoryUsage: a.cfg.AdhocMaxMemory,
			MaxConcurrent: a.cfg.AdhocMaxConcurrent, Logger: a.log, PIIKeys: pii, PII: adhoc.PIIHidden})}
	c := a.cfg
	gw := insights.NewGateway(insights.GatewayConfig{URL: c.AIURL, Model: c.AIModel, APIKey: c.AIAPIKey, Timeout: c.AITimeout,
		DailyTokens: c.AIDailyTokens, PIIKeys: pii, Budget: a.kv})
	return insights.NewService(a.db, tools, s.jobs, insights.Config{Gateway: gw, Bus: a.bus})
}
