package api_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
)

// TestAlertRuleNextEvaluation reads nextEvaluationAt of tenant A's rules:
// an enabled rule (a key-metric default never evaluated) is due at the next
// five-minute tick (the default schedule), a disabled one has none, and
// tenant B's list does not hold tenant A's rule.
func TestAlertRuleNextEvaluation(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	res := h.query(h.token("tenant-a", auth.RoleAdmin), `mutation($in: AlertRuleInput!) { createAlertRule(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": "off", "kind": "THRESHOLD", "metricKey": "lesson_completions", "grain": "DAY",
			"comparator": "ABOVE", "threshold": 1, "enabled": false}})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal(res.Data["createAlertRule"], &created))

	type rule struct {
		ID               string
		Enabled          bool
		IsDefault        bool
		NextEvaluationAt *time.Time
	}
	list := func(tenant string) []rule {
		t.Helper()
		res := h.query(h.token(tenant, auth.RoleViewer), `{ alertRulesConnection(first: 200) { nodes { id enabled isDefault nextEvaluationAt } } }`, nil)
		require.Empty(t, res.Errors, "%+v", res.Errors)
		var c struct{ Nodes []rule }
		require.NoError(t, json.Unmarshal(res.Data["alertRulesConnection"], &c))
		return c.Nodes
	}

	before := time.Now()
	rules := list("tenant-a")
	after := time.Now()
	var sawDefault, sawOff bool
	for _, r := range rules {
		switch {
		case r.ID == created.ID:
			sawOff = true
			assert.False(t, r.Enabled)
			assert.Nil(t, r.NextEvaluationAt, "a disabled rule is not evaluated")
		case r.IsDefault && r.Enabled:
			sawDefault = true
			require.NotNil(t, r.NextEvaluationAt, "rule %s", r.ID)
			next := *r.NextEvaluationAt
			assert.True(t, next.After(before) && !next.After(after.Add(5*time.Minute)), "next %v not within 5 min of %v", next, before)
			assert.Zero(t, next.UTC().Minute()%5, "the default tick runs every five minutes: %v", next)
			assert.Zero(t, next.Second(), "ticks are on the minute: %v", next)
		}
	}
	assert.True(t, sawDefault, "tenant A has enabled default rules: %+v", rules)
	assert.True(t, sawOff, "tenant A's disabled rule is listed")
	for _, r := range list("tenant-b") {
		assert.NotEqual(t, created.ID, r.ID, "tenant B sees tenant A's rule")
	}
}
