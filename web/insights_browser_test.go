package web

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestInsightsInChromium runs web/e2e/insights.mjs in headless Chromium
// against the real analyticsd: a viewer asks on the Insights page, watches
// the steps arrive over insightProgress, and the page's explanation,
// confidence, charts and evidence equal the GraphQL insight; its steps
// show rendered Markdown; an admin pins a chart to a dashboard, which draws
// it with the numbers the GraphQL render returns; tenant B can neither pin
// nor see it; no console errors.
func TestInsightsInChromium(t *testing.T) {
	srv := startSeededServer(t, "300")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	out := runE2E(ctx, t, "e2e/insights.mjs", srv.env())
	assert.Regexp(t, `(?m)^12 passed, 0 failed$`, out)
}
