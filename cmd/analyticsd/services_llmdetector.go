package main

import "github.com/learnhub/analytics-service/monitors"

// monitorReviewer builds the monitors' optional LLM reviewer from the AI
// gateway's settings (ANALYTICS_AI_URL, _MODEL, _API_KEY, _TIMEOUT,
// _DAILY_TOKENS); nil when ANALYTICS_AI_URL is empty, and then monitors
// accept only llmReview OFF. Its tokens count in Redis through
// platform/llm on the same per-tenant daily key as the insights gateway's,
// so a tenant has one AI budget.
func (a *app) monitorReviewer() *monitors.Reviewer {
	c := a.cfg
	return monitors.NewReviewer(monitors.ReviewerConfig{URL: c.AIURL, Model: c.AIModel, APIKey: c.AIAPIKey, Timeout: c.AITimeout,
		DailyTokens: c.AIDailyTokens, Budget: a.kv})
}
