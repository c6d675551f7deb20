package alerts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
)

func TestRuleLifecycle(t *testing.T) {
	h := newHarness(t)
	acme, beta := as("acme"), as("beta")

	t.Run("defaults exist without anyone creating them", func(t *testing.T) {
		list, err := h.svc.List(acme)
		require.NoError(t, err)
		var ids []string
		for _, r := range list {
			ids = append(ids, r.ID)
			assert.True(t, r.Default && r.Virtual && r.NotifyAdmins && r.Enabled, r.ID)
			assert.Equal(t, alerts.KindAnomaly, r.Kind)
			assert.Equal(t, "key:"+r.MetricKey, r.MonitorID)
		}
		assert.ElementsMatch(t, []string{"default:active_learners_dau", "default:active_learners_wau", "default:active_learners_mau",
			"default:course_completion_rate", "default:avg_quiz_score", "default:new_learners",
			"default:course_completions"}, ids) // course_completions is a key metric for the daily completion watch (monitors)
	})

	var rule *alerts.Rule
	t.Run("create, get, list", func(t *testing.T) {
		var err error
		rule, err = h.svc.Create(acme, thresholdRule(10, "properties.course_id"))
		require.NoError(t, err)
		assert.Equal(t, alerts.TreatAsNoData, rule.NoData)
		assert.Equal(t, alerts.TreatAsError, rule.OnError)
		got, err := h.svc.Get(acme, rule.ID)
		require.NoError(t, err)
		assert.Equal(t, rule.Input, got.Input)
		assert.Equal(t, "tester@acme", got.Owner)
		list, err := h.svc.List(acme)
		require.NoError(t, err)
		assert.Len(t, list, 8)
		assert.Equal(t, rule.ID, list[7].ID)
	})

	t.Run("tenant B cannot see or change A's rules", func(t *testing.T) {
		_, err := h.svc.Get(beta, rule.ID)
		assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
		list, err := h.svc.List(beta)
		require.NoError(t, err)
		for _, r := range list {
			assert.NotEqual(t, rule.ID, r.ID)
		}
		_, err = h.svc.Update(beta, rule.ID, rule.Version, thresholdRule(1))
		assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
		assert.True(t, errs.Is(h.svc.Delete(beta, rule.ID, rule.Version), errs.KindNotFound))
	})

	t.Run("update needs the current version", func(t *testing.T) {
		_, err := h.svc.Update(acme, rule.ID, rule.Version-1, thresholdRule(20))
		assert.True(t, errs.Is(err, errs.KindConflict), "%v", err)
		in := thresholdRule(20)
		in.Name = "renamed"
		up, err := h.svc.Update(acme, rule.ID, rule.Version, in)
		require.NoError(t, err)
		assert.Equal(t, "renamed", up.Name)
		assert.Greater(t, up.Version, rule.Version)
		rule = up
	})

	t.Run("a default rule is tuned and switched off, never removed", func(t *testing.T) {
		def, err := h.svc.Get(acme, "default:avg_quiz_score")
		require.NoError(t, err)
		in := def.Input
		in.Threshold, in.For = 0.95, 2*time.Hour
		tuned, err := h.svc.Update(acme, def.ID, 0, in)
		require.NoError(t, err)
		assert.False(t, tuned.Virtual)
		assert.Equal(t, 0.95, tuned.Threshold)
		in.Kind, in.Comparator, in.MonitorID = alerts.KindThreshold, alerts.Above, ""
		_, err = h.svc.Update(acme, def.ID, tuned.Version, in)
		assert.Equal(t, "input.kind", field(err), "%v", err)
		require.NoError(t, h.svc.Delete(acme, def.ID, tuned.Version))
		off, err := h.svc.Get(acme, def.ID)
		require.NoError(t, err)
		assert.False(t, off.Enabled)
		other, err := h.svc.Get(beta, def.ID)
		require.NoError(t, err)
		assert.True(t, other.Enabled && other.Virtual, "beta's default is untouched")
	})

	t.Run("delete", func(t *testing.T) {
		require.NoError(t, h.svc.Delete(acme, rule.ID, rule.Version))
		_, err := h.svc.Get(acme, rule.ID)
		assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	})

	t.Run("bad input names the field", func(t *testing.T) {
		anomaly := alerts.Input{Name: "a", Kind: alerts.KindAnomaly, MetricKey: "new_learners", MonitorID: "m1", Grain: "DAY", Threshold: 0.9}
		cases := []struct {
			name  string
			edit  func(in *alerts.Input)
			field string
		}{
			{"empty name", func(in *alerts.Input) { in.Name = " " }, "input.name"},
			{"unknown kind", func(in *alerts.Input) { in.Kind = "SPIKE" }, "input.kind"},
			{"minute grain", func(in *alerts.Input) { in.Grain = "MINUTE" }, "input.grain"},
			{"no comparator", func(in *alerts.Input) { in.Comparator = "" }, "input.comparator"},
			{"unknown metric", func(in *alerts.Input) { in.MetricKey = "nope" }, "input.metricKey"},
			{"dimension not allowed", func(in *alerts.Input) { in.Dimensions = []string{"properties.secret"} }, "input.dimensions[0]"},
			{"filter not allowed", func(in *alerts.Input) {
				in.Filters = []metrics.Filter{{Dimension: "user_id", Op: metrics.OpEq, Values: []string{"x"}}}
			}, "input.filters[0].dimension"},
			{"negative for", func(in *alerts.Input) { in.For = -time.Minute }, "input.for"},
			{"keep firing too long", func(in *alerts.Input) { in.KeepFiringFor = 40 * 24 * time.Hour }, "input.keepFiringFor"},
			{"bad no-data treatment", func(in *alerts.Input) { in.NoData = "ERROR" }, "input.noData"},
			{"bad error treatment", func(in *alerts.Input) { in.OnError = "NO_DATA" }, "input.onError"},
			{"bad email", func(in *alerts.Input) {
				in.Channels = []alerts.Channel{{Kind: "EMAIL", To: []string{"Ops <ops@x.io>"}}}
			}, "input.channels[0].to[0]"},
			{"short secret", func(in *alerts.Input) {
				in.Channels = []alerts.Channel{{Kind: "WEBHOOK", URL: "https://hooks.example.com/a", Secret: "short"}}
			}, "input.channels[0].secret"},
			{"webhook not http", func(in *alerts.Input) {
				in.Channels = []alerts.Channel{{Kind: "WEBHOOK", URL: "ftp://hooks.example.com/a", Secret: "0123456789abcdef"}}
			}, "input.channels[0].url"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				in := thresholdRule(1)
				c.edit(&in)
				_, err := h.svc.Create(acme, in)
				require.Error(t, err)
				assert.Equal(t, errs.KindInvalid, errs.KindOf(err), "%v", err)
				assert.Equal(t, c.field, field(err), "%v", err)
			})
		}
		for _, c := range []struct {
			name  string
			edit  func(in *alerts.Input)
			field string
		}{
			{"anomaly without monitor", func(in *alerts.Input) { in.MonitorID = "" }, "input.monitorId"},
			{"anomaly threshold over 1", func(in *alerts.Input) { in.Threshold = 1.5 }, "input.threshold"},
			{"anomaly bad score field", func(in *alerts.Input) { in.ScoreField = "VALUE" }, "input.scoreField"},
		} {
			t.Run(c.name, func(t *testing.T) {
				in := anomaly
				c.edit(&in)
				_, err := h.svc.Create(acme, in)
				assert.Equal(t, c.field, field(err), "%v", err)
			})
		}
	})

	t.Run("admin channels are per tenant and keep their secret", func(t *testing.T) {
		cs, err := h.svc.SetChannels(acme, []string{"admins@acme.test"}, h.hook.srv.URL+"/acme", "acme-secret-0123456789")
		require.NoError(t, err)
		assert.Equal(t, []string{"admins@acme.test"}, cs.Emails)
		cs, err = h.svc.SetChannels(acme, []string{"admins@acme.test"}, h.hook.srv.URL+"/acme", "")
		require.NoError(t, err)
		assert.Equal(t, "acme-secret-0123456789", cs.WebhookSecret)
		_, err = h.svc.SetChannels(acme, []string{"not an address"}, "", "")
		assert.Equal(t, "input[0].to[0]", field(err), "%v", err)
		other, err := h.svc.Channels(beta)
		require.NoError(t, err)
		assert.Empty(t, other.Emails)
		assert.Empty(t, other.WebhookURL)
	})
}

// field is the "field" extension of a classified error.
func field(err error) string {
	f, _ := errs.PublicFields(err)["field"].(string)
	return f
}
