package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/auth"
)

// TestLiveLastWindowIncludesJustPostedEvents is issue 18 item 5 measured
// end to end: an event stamped now goes in through POST /v1/events, the
// firehose stores it and sends its commit notice, and a graphql-transport-ws
// subscriber of a dashboard with the usual relative window (last: "1h")
// must get a push that counts it within 2 s (p95 over several events).
// Before, the live render ended its window at the start of the minute, so
// the event waited for the 30 s fallback after the minute turned.
func TestLiveLastWindowIncludesJustPostedEvents(t *testing.T) {
	const rounds = 8
	h := newHarness(t, harnessOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	js := h.bus.JetStream()
	_, err := ingest.EnsureStream(ctx, js, ingest.StreamConfig{})
	require.NoError(t, err)
	consumer := ingest.NewDirectConsumer(h.bus, h.db, ingest.NewMetrics(nil), slog.New(slog.NewTextHandler(io.Discard, nil)),
		ingest.DirectConfig{Sink: ingest.SinkConfig{BatchWait: 100 * time.Millisecond}})
	go func() { _ = consumer.Run(ctx) }()
	verifier, err := auth.NewHMACVerifier(testSecret, auth.VerifyOptions{})
	require.NoError(t, err)
	post := httptest.NewServer(auth.Middleware(verifier)(ingest.HTTPHandler(ingest.NewPublisher(js),
		ingest.NewDecoder(ingest.DecoderConfig{}), ingest.NewDeadLetterWriter(js, h.db, nil), ingest.HTTPConfig{})))
	defer post.Close()
	producer := h.token("tenant-a", auth.RoleAdmin)

	h.insertEvents("tenant-a", event{"old", "course.enrolled", time.Now().UTC().Add(-10 * time.Minute)})
	c, err := h.dialWS(ctx, h.token("tenant-a", auth.RoleViewer))
	require.NoError(t, err)
	defer c.CloseNow()
	nextOfType(ctx, t, c, "connection_ack")
	sub, _ := json.Marshal(map[string]any{"query": `subscription { dashboardData(idOrSlug: "learner-progress", timeRange: {last: "1h"}) {
		widgets { results { metric { key } totals { value } } } } }`})
	require.NoError(t, wsjson.Write(ctx, c, wsMessage{ID: "1", Type: "subscribe", Payload: sub}))
	require.Equal(t, 1.0, enrolmentsTotal(t, nextOfType(ctx, t, c, "next").Payload))

	var lags []time.Duration
	for i := range rounds {
		body := fmt.Sprintf(`{"id":"now-%d","type":"course.enrolled","user_id":"u%d","occurred_at":%q,"properties":{"course_id":"c1"}}`,
			i, i, time.Now().UTC().Format(time.RFC3339Nano))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, post.URL+"/v1/events", bytes.NewReader([]byte(body)))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+producer)
		req.Header.Set("Content-Type", "application/x-ndjson")
		posted := time.Now()
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)

		// A push within 10 s or the round fails: the old behaviour took
		// 31-62 s, so waiting for it would only slow the failure down.
		round, stop := context.WithTimeout(ctx, 10*time.Second)
		want := float64(i + 2)
		for {
			got := enrolmentsTotal(t, nextOfType(round, t, c, "next").Payload)
			if got >= want {
				require.Equal(t, want, got)
				break
			}
		}
		stop()
		lags = append(lags, time.Since(posted))
	}
	slices.Sort(lags)
	p95 := lags[(len(lags)*95+99)/100-1]
	t.Logf("POST /v1/events → push, %d events stamped now: min %v, median %v, p95 %v, max %v",
		rounds, lags[0], lags[len(lags)/2], p95, lags[len(lags)-1])
	require.LessOrEqual(t, p95, 2*time.Second, "p95 of the push after POST /v1/events")
}
