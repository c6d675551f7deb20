package alerts_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/alerts"
)

// TestTriggeredEventCarriesTheLLMReview: a monitor bucket with an LLM
// review fires with its explanation and model in the event; one without
// leaves both fields out of the payload.
func TestTriggeredEventCarriesTheLLMReview(t *testing.T) {
	h := newHarness(t)
	const why = "Completions fell 60% against the weekday's usual level."
	for _, tc := range []struct {
		monitor, explanation, model string
	}{
		{"reviewed", why, "gpt-4o-mini"},
		{"plain", "", ""},
	} {
		t.Run(tc.monitor, func(t *testing.T) {
			h.scores.Add("acme", tc.monitor, alerts.AnomalyPoint{Bucket: day(20), Series: map[string]string{}, Value: 10, Expected: 30,
				Lower: 20, Upper: 40, Score: 0.9, Confidence: 0.7, Detector: "counts", Explanation: tc.explanation, ReviewedBy: tc.model})
			_, err := h.svc.Create(as("acme"), alerts.Input{Name: tc.monitor, Kind: alerts.KindAnomaly, MetricKey: "course_completions",
				MonitorID: tc.monitor, Grain: "DAY", Threshold: 0.5, Enabled: true})
			require.NoError(t, err)
			evals, err := h.svc.EvaluateTenant(context.Background(), "acme", day(21).Add(5*time.Hour))
			require.NoError(t, err)
			var fired []*alerts.EventPayload
			for _, e := range evals {
				for _, ev := range e.Events {
					if ev.MonitorID == tc.monitor && ev.Event == alerts.EventTriggered {
						fired = append(fired, ev)
					}
				}
			}
			require.Len(t, fired, 1)
			assert.Equal(t, 0.7, *fired[0].Confidence, "the confidence the monitor gave (reviewed when reranked)")
			raw, err := json.Marshal(fired[0])
			require.NoError(t, err)
			var body map[string]any
			require.NoError(t, json.Unmarshal(raw, &body))
			if tc.model == "" {
				assert.NotContains(t, body, "explanation")
				assert.NotContains(t, body, "reviewed_by")
				return
			}
			assert.Equal(t, why, body["explanation"])
			assert.Equal(t, "gpt-4o-mini", body["reviewed_by"])
		})
	}
}
