package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/telemetry"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

// spansOf returns the names of the ended spans of trace id, and the span
// stubs by name.
func spansOf(exp *tracetest.InMemoryExporter, id trace.TraceID) map[string][]tracetest.SpanStub {
	out := map[string][]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID() == id {
			out[s.Name] = append(out[s.Name], s)
		}
	}
	return out
}

// TestTracesEndToEnd: with tracing on (an in-memory exporter in place of
// OTLP), one trace follows an event from POST /v1/events through NATS, the
// ingest batch and its insert, the commit notice, to the live refresh that
// pushes it to a WebSocket subscriber; another follows exportQuery through
// the Asynq task to the blob. The client starts each trace (traceparent).
func TestTracesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole service")
	}
	exp := tracetest.NewInMemoryExporter()
	tracing := telemetry.NewTracingTo(exp, "analyticsd-test")
	db := store.New(storetest.EmbeddedBackend(t, chembedded.Options{}),
		store.Options{Mode: "embedded", Tracer: tracing.Tracer("analytics/clickhouse")})
	r := startReplica(t, testConfig(t, nil), appDeps{db: db, tracing: tracing})

	const (
		eventTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
		exportTrace = "0af7651916cd43dd8448eb211c80319c"
	)
	traceparent := func(id string) string { return "00-" + id + "-00f067aa0ba902b7-01" }

	t.Run("POST /v1/events to the live push", func(t *testing.T) {
		traceEventToLivePush(t, exp, r, "tenant-t", eventTrace)
	})

	t.Run("exportQuery through the Asynq task to the blob", func(t *testing.T) {
		body := `{"query":"mutation { exportQuery(input: {events: {timeRange: {last: \"1d\"}}, format: CSV}) { id } }"}`
		req, _ := http.NewRequest(http.MethodPost, r.url+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+r.token(t, "tenant-t", auth.RoleAnalyst))
		req.Header.Set("traceparent", traceparent(exportTrace))
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		id, _ := trace.TraceIDFromHex(exportTrace)
		var spans map[string][]tracetest.SpanStub
		require.Eventually(t, func() bool {
			spans = spansOf(exp, id)
			return len(spans["blob put"]) > 0 && len(spans["job exports:run"]) > 0 // the job's span ends after its write
		}, 30*time.Second, 50*time.Millisecond, "the export's job and blob write join the request's trace")
		for _, name := range []string{"HTTP /graphql", "graphql mutation anonymous", "job exports:run", "blob put"} {
			assert.NotEmpty(t, spans[name], "%s in the export's trace; have %v", name, names(spans))
		}
		job := spans["job exports:run"][0]
		assert.Equal(t, job.SpanContext.SpanID(), spans["blob put"][0].Parent.SpanID(), "the blob write is the job's child")
		op := spans["graphql mutation anonymous"][0]
		var complexity int64
		for _, kv := range op.Attributes {
			if kv.Key == "analytics.graphql.complexity" {
				complexity = kv.Value.AsInt64()
			}
		}
		assert.Positive(t, complexity, "the operation span carries its complexity")
		for _, s := range exp.GetSpans() {
			for _, kv := range s.Attributes {
				assert.NotContains(t, kv.Value.String(), "Bearer", "no token in any span attribute")
			}
		}
	})
}

// TestTracesThroughKafka: with Kafka brokers configured (kfake here), an
// event's path is POST /v1/events → JetStream → the Kafka bridge → Kafka
// (traceparent in the record headers) → the Kafka consumer's batch and
// insert → the live push, still one trace.
func TestTracesThroughKafka(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole service")
	}
	kafka, err := kfake.NewCluster(kfake.NumBrokers(1),
		kfake.SeedTopics(3, ingest.DefaultKafkaTopic, ingest.DefaultKafkaDLQTopic))
	require.NoError(t, err)
	t.Cleanup(kafka.Close)
	exp := tracetest.NewInMemoryExporter()
	tracing := telemetry.NewTracingTo(exp, "analyticsd-test")
	db := store.New(storetest.EmbeddedBackend(t, chembedded.Options{}),
		store.Options{Mode: "embedded", Tracer: tracing.Tracer("analytics/clickhouse")})
	cfg := testConfig(t, map[string]string{"ANALYTICS_KAFKA_BROKERS": strings.Join(kafka.ListenAddrs(), ",")})
	r := startReplica(t, cfg, appDeps{db: db, tracing: tracing})
	traceEventToLivePush(t, exp, r, "tenant-k", "5cf92f3577b34da6a3ce929d0e0e4737")

	var records int64 // the event went through Kafka, not JetStream → ClickHouse directly
	for p := range 3 {
		conn, err := kafkago.DialLeader(t.Context(), "tcp", kafka.ListenAddrs()[0], ingest.DefaultKafkaTopic, p)
		require.NoError(t, err)
		off, err := conn.ReadLastOffset()
		require.NoError(t, err)
		require.NoError(t, conn.Close())
		records += off
	}
	assert.EqualValues(t, 1, records, "the one event is a record of the Kafka topic")
}

// traceEventToLivePush subscribes to tenant's live event counts on r, sends
// one event with a client-chosen trace id, waits for its push and checks
// that the request, the ingest batch, its insert and the live refresh's
// query are all in that trace.
func traceEventToLivePush(t *testing.T, exp *tracetest.InMemoryExporter, r *replica, tenant, traceID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, next := subscribe(ctx, t, r.url, r.token(t, tenant, auth.RoleViewer),
		`subscription { eventTypeCounts(timeRange: {last: "1h"}) { type count } }`)
	sent := false
	for !strings.Contains(string(next()), `"user.login"`) {
		if !sent {
			postEvent(t, r.url, r.token(t, tenant, auth.RoleIngest), tenant, "t-1",
				map[string]string{"traceparent": "00-" + traceID + "-00f067aa0ba902b7-01"})
			sent = true
		}
	}
	id, _ := trace.TraceIDFromHex(traceID)
	var spans map[string][]tracetest.SpanStub
	require.Eventually(t, func() bool {
		spans = spansOf(exp, id)
		return hasPrefix(spans, "live refresh")
	}, 10*time.Second, 20*time.Millisecond, "the live refresh joins the event's trace")
	for _, name := range []string{"HTTP POST /v1/events", "ingest batch", "clickhouse insert events"} {
		assert.NotEmpty(t, spans[name], "%s in the event's trace; have %v", name, names(spans))
	}
	if len(spans["ingest batch"]) > 0 && len(spans["clickhouse insert events"]) > 0 {
		batch := spans["ingest batch"][0]
		insert := spans["clickhouse insert events"][0]
		assert.Equal(t, batch.SpanContext.SpanID(), insert.Parent.SpanID(), "the insert is the batch's child")
	}
	assert.True(t, hasPrefix(spans, "clickhouse query"), "the refresh's query is in the trace; have %v", names(spans))
}

func hasPrefix(spans map[string][]tracetest.SpanStub, prefix string) bool {
	for n := range spans {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

func names(spans map[string][]tracetest.SpanStub) []string {
	var out []string
	for n := range spans {
		out = append(out, n)
	}
	return out
}
