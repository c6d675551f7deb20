package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/auth"
)

// enrolmentsTotal reads the total of the "enrolments" KPI from a pushed render.
func enrolmentsTotal(t *testing.T, payload json.RawMessage) float64 {
	t.Helper()
	var msg struct {
		Data struct {
			DashboardData struct {
				Widgets []struct {
					Results []struct {
						Metric struct{ Key string }     `json:"metric"`
						Totals struct{ Value *float64 } `json:"totals"`
					} `json:"results"`
				} `json:"widgets"`
			} `json:"dashboardData"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(payload, &msg), string(payload))
	for _, w := range msg.Data.DashboardData.Widgets {
		for _, r := range w.Results {
			if r.Metric.Key == "enrolments" && r.Totals.Value != nil {
				return *r.Totals.Value
			}
		}
	}
	t.Fatalf("no enrolments total in %s", payload)
	return 0
}

// TestLiveDashboardUpdatesWithinTwoSecondsOfTheFirehose runs the real path:
// events published on JetStream → ingest (direct mode) → ClickHouse → commit
// notice → live refresher → WebSocket subscriber.
func TestLiveDashboardUpdatesWithinTwoSecondsOfTheFirehose(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.runDirectIngest(ctx, t)

	h.insertEvents("tenant-a", event{"a0", "course.enrolled", time.Now().UTC().Add(-time.Hour)})
	c, err := h.dialWS(ctx, h.token("tenant-a", auth.RoleViewer))
	require.NoError(t, err)
	defer c.CloseNow()
	nextOfType(ctx, t, c, "connection_ack")
	sub, _ := json.Marshal(map[string]any{"query": `subscription { dashboardData(idOrSlug: "learner-progress", timeRange: {last: "7d"}) {
		widgets { results { metric { key } totals { value } } } } }`})
	require.NoError(t, wsjson.Write(ctx, c, wsMessage{ID: "1", Type: "subscribe", Payload: sub}))
	require.Equal(t, 1.0, enrolmentsTotal(t, nextOfType(ctx, t, c, "next").Payload))

	pub := ingest.NewPublisher(h.bus.JetStream())
	var evs []ingest.Event
	for i := range 3 {
		evs = append(evs, ingest.Event{ID: fmt.Sprintf("live-%d", i), TenantID: "tenant-a", Type: "course.enrolled", UserID: "u1",
			OccurredAt: time.Now().UTC().Add(-time.Minute), Properties: json.RawMessage(`{"course_id":"c1"}`)})
	}
	evs = append(evs, ingest.Event{ID: "other", TenantID: "tenant-b", Type: "course.enrolled", UserID: "u9",
		OccurredAt: time.Now().UTC().Add(-time.Minute), Properties: json.RawMessage(`{}`)})
	published := time.Now()
	results, err := pub.Publish(ctx, evs)
	require.NoError(t, err)
	for _, r := range results {
		require.NoError(t, r)
	}
	for {
		got := enrolmentsTotal(t, nextOfType(ctx, t, c, "next").Payload)
		if got == 4 {
			break
		}
		require.Less(t, got, 4.0, "tenant B's event must never show up for tenant A")
	}
	require.Less(t, time.Since(published), 2*time.Second, "update must arrive within 2 s of publishing")
}
