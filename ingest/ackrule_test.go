package ingest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/store"
)

// The acknowledgement rules of a batch: all of it after its insert, none of
// it before.

// TestDirectFailedBatchRedeliveredWhole: a batch whose insert keeps failing
// is not acknowledged, not even in part; when its consumer stops, the batch
// is released and comes back whole, in one insert of every event, to the
// next consumer, which stores each event once.
func TestDirectFailedBatchRedeliveredWhole(t *testing.T) {
	b, js, db, fb := firehose(t)
	const tenant, n = "whole", 150
	now := time.Now().UTC()
	for i := range n {
		publish(t, js, ingest.Subject(tenant, "lesson.started"), envelope(tenant, fmt.Sprintf("w-%d", i), "lesson.started", now.Add(-time.Minute), nil), "")
	}
	cfg := ingest.DirectConfig{Sink: fastSink, Consumer: ingest.ConsumerConfig{AckWait: 2 * time.Second}}
	cfg.Sink.BatchWait = 500 * time.Millisecond

	fb.SetDown(true)
	stop := start(t, ingest.NewDirectConsumer(b, db, nil, nil, cfg))
	eventually(t, testTimeout, func() bool { return fb.FailedInserts() >= 3 }, "the insert failed and was retried")
	info := consumerInfo(t, js, ingest.DefaultDirectDurable)
	require.Equal(t, uint64(0), info.AckFloor.Stream, "nothing of a failing batch is acknowledged")
	require.Equal(t, n, info.NumAckPending, "the whole batch is in flight")
	require.NoError(t, stop())
	info = consumerInfo(t, js, ingest.DefaultDirectDurable)
	assert.Equal(t, uint64(0), info.AckFloor.Stream, "a consumer stopped while retrying acknowledges nothing")

	var mu sync.Mutex
	var inserts []int
	fb.SetAfterInsert(func(in store.Insert) {
		if in.Table == ingest.EventsTable {
			mu.Lock()
			inserts = append(inserts, len(in.Rows))
			mu.Unlock()
		}
	})
	t.Cleanup(func() { fb.SetAfterInsert(nil) })
	fb.SetDown(false)
	stop = start(t, ingest.NewDirectConsumer(b, db, nil, nil, cfg))
	eventually(t, testTimeout, func() bool {
		info := consumerInfo(t, js, ingest.DefaultDirectDurable)
		return info.NumAckPending == 0 && info.NumPending == 0 && info.AckFloor.Stream == n
	}, "the released batch stored and acknowledged")
	require.NoError(t, stop())
	mu.Lock()
	assert.Equal(t, []int{n}, inserts, "the batch came back whole: one insert of every event")
	mu.Unlock()
	assert.Equal(t, counts{final: n, distinct: n, raw: n}, countEvents(t, db, tenant))
}

// TestDirectStoreRefusedEventDeadLettered: when ClickHouse refuses one
// event of a batch as data it cannot store (not as being unavailable), the
// sink isolates it by halving the batch: that event becomes a dead letter
// with reason rejected_by_store, every other event of the batch is stored
// once, and the whole batch is acknowledged.
func TestDirectStoreRefusedEventDeadLettered(t *testing.T) {
	b, js, db, fb := firehose(t)
	const tenant, n, poison = "poison", 64, "p-37"
	now := time.Now().UTC()
	for i := range n {
		publish(t, js, ingest.Subject(tenant, "user.login"), envelope(tenant, fmt.Sprintf("p-%d", i), "user.login", now.Add(-time.Minute), nil), "")
	}
	fb.SetRefuseRow(func(row []any) bool { return row[1] == poison }) // event_id is the second column
	t.Cleanup(func() { fb.SetRefuseRow(nil) })

	cfg := ingest.DirectConfig{Sink: fastSink}
	cfg.Sink.BatchWait = 500 * time.Millisecond
	stop := start(t, ingest.NewDirectConsumer(b, db, nil, nil, cfg))
	eventually(t, testTimeout, func() bool {
		if countDeadLetters(t, db, tenant) != 1 {
			return false
		}
		info := consumerInfo(t, js, ingest.DefaultDirectDurable)
		return info.NumAckPending == 0 && info.NumPending == 0
	}, "the refused event dead-lettered and the batch acknowledged")
	require.NoError(t, stop())

	assert.Equal(t, counts{final: n - 1, distinct: n - 1, raw: n - 1}, countEvents(t, db, tenant), "every other event stored once")
	var found uint64
	require.NoError(t, db.QueryRow(context.Background(), []any{&found},
		"SELECT count() FROM events WHERE tenant_id = ? AND event_id = ?", tenant, poison))
	assert.Equal(t, uint64(0), found, "the refused event is not in events")
	var code, reason, payload string
	require.NoError(t, db.QueryRow(context.Background(), []any{&code, &reason, &payload},
		"SELECT reason_code, reason, payload FROM dead_letters WHERE tenant_id = ?", tenant))
	assert.Equal(t, string(ingest.ReasonRejectedByStore), code)
	assert.Contains(t, reason, "CANNOT_PARSE_INPUT_ASSERTION_FAILED", "the reason names the engine's refusal")
	assert.Contains(t, payload, `"id":"`+poison+`"`, "the dead letter keeps the envelope")
}
