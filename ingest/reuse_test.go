package ingest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/store"
)

// reuseEvents is how many events the buffer-reuse tests send: with batches
// of a dozen, each pipeline reuses its spare buffers about a hundred times.
const reuseEvents = 1500

// publishMarked publishes reuseEvents valid events over tenants, each with
// properties.mark = "<tenant>/<event id>", and a malformed envelope after
// every 97th; it returns how many malformed ones it sent per tenant.
func publishMarked(t *testing.T, js jetstream.JetStream, prefix string, tenants []string) map[string]uint64 {
	t.Helper()
	bad := map[string]uint64{}
	now := time.Now().UTC()
	for i := range reuseEvents {
		tn := tenants[i%len(tenants)]
		id := fmt.Sprintf("%s-%d", prefix, i)
		publish(t, js, ingest.Subject(tn, ingest.TypeUserLogin), envelope(tn, id, ingest.TypeUserLogin, now.Add(-time.Duration(i)*time.Second),
			map[string]any{"mark": tn + "/" + id, "pad": i}), "")
		if i%97 == 0 {
			publish(t, js, ingest.Subject(tn, ingest.TypeUserLogin), []byte(`{"id":`), "")
			bad[tn]++
		}
	}
	return bad
}

// requireMarkedRows waits until every tenant holds its share of the events
// and checks that each stored row carries its own properties: a buffer
// reused while still in use would mix one event's properties into another's
// row.
func requireMarkedRows(t *testing.T, db *store.DB, tenants []string) {
	t.Helper()
	eventually(t, testTimeout, func() bool {
		var total uint64
		for _, tn := range tenants {
			total += countEvents(t, db, tn).final
		}
		return total == reuseEvents
	}, "all %d events stored", reuseEvents)
	var mixed, total uint64
	require.NoError(t, db.QueryRow(context.Background(), []any{&mixed, &total},
		"SELECT countIf(JSONExtractString(properties, 'mark') != concat(tenant_id, '/', event_id)), count() FROM events FINAL WHERE tenant_id IN ?", tenants))
	require.Equal(t, uint64(reuseEvents), total)
	require.Zero(t, mixed, "rows whose properties belong to another event")
}

// requireDeadLetters waits until each tenant has its malformed envelopes
// as dead letters: a batch records them after inserting its valid events.
func requireDeadLetters(t *testing.T, db *store.DB, bad map[string]uint64) {
	t.Helper()
	for tn, n := range bad {
		eventually(t, testTimeout, func() bool { return countDeadLetters(t, db, tn) >= n }, "%d dead letters of %s", n, tn)
		require.Equal(t, n, countDeadLetters(t, db, tn), "dead letters of %s", tn)
	}
}

// TestDirectBufferReuseKeepsEventsApart runs the direct consumer with tiny
// batches, dead letters and ClickHouse going up and down, so acknowledged
// batches hand their buffers back many times, some while a retry holds the
// batch after them.
func TestDirectBufferReuseKeepsEventsApart(t *testing.T) {
	b, js, db, fb := firehose(t)
	tenants := []string{"reuse-a", "reuse-b", "reuse-c"}
	bad := publishMarked(t, js, "d", tenants)
	cfg := ingest.DirectConfig{Sink: ingest.SinkConfig{BatchRows: 13, BatchWait: 20 * time.Millisecond,
		Retry: ingest.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}}}
	stop := start(t, ingest.NewDirectConsumer(b, db, nil, nil, cfg))
	for i := range 20 {
		fb.SetDown(i%2 == 0)
		time.Sleep(15 * time.Millisecond)
	}
	fb.SetDown(false)
	requireMarkedRows(t, db, tenants)
	requireDeadLetters(t, db, bad)
	require.NoError(t, stop())
	require.Positive(t, fb.FailedInserts(), "ClickHouse was never down while batches were in flight")
}

// TestBridgeBufferReuseKeepsEventsApart runs the Kafka bridge with tiny
// batches, so its record buffers are reused about a hundred times.
func TestBridgeBufferReuseKeepsEventsApart(t *testing.T) {
	b, js, db, _ := firehose(t)
	brokers := startKafka(t)
	tenants := []string{"reuse-k1", "reuse-k2", "reuse-k3"}
	bad := publishMarked(t, js, "k", tenants)
	br, err := ingest.NewKafkaBridge(b, nil, nil, ingest.BridgeConfig{Kafka: ingest.KafkaConfig{Brokers: brokers}, BatchRows: 11, BatchWait: 10 * time.Millisecond})
	require.NoError(t, err)
	stopBridge := start(t, br)
	stopSink := start(t, kafkaSink(t, brokers, db))
	requireMarkedRows(t, db, tenants)
	requireDeadLetters(t, db, bad)
	require.NoError(t, stopSink())
	require.NoError(t, stopBridge())
}
