package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/ingest/ingesttest"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

// testTimeout bounds every wait of a test.
const testTimeout = 60 * time.Second

// fastSink batches small and waits little, so tests run quickly.
var fastSink = ingest.SinkConfig{BatchRows: 500, BatchWait: 100 * time.Millisecond,
	Retry: ingest.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}}

func openBus(t *testing.T) *bus.Bus {
	t.Helper()
	b, err := bus.Open(context.Background(), bus.Config{DataDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// openDB returns a migrated embedded database behind a fault injector.
func openDB(t *testing.T) (*store.DB, *ingesttest.FaultyBackend) {
	t.Helper()
	fb := ingesttest.NewFaultyBackend(storetest.EmbeddedBackend(t, chembedded.Options{}))
	db := store.New(fb, store.Options{Mode: "embedded"})
	_, err := store.Migrate(context.Background(), db, store.MigrateOptions{})
	require.NoError(t, err)
	return db, fb
}

// firehose starts NATS with the firehose stream and a migrated database.
func firehose(t *testing.T) (*bus.Bus, jetstream.JetStream, *store.DB, *ingesttest.FaultyBackend) {
	t.Helper()
	b := openBus(t)
	db, fb := openDB(t)
	_, err := ingest.EnsureStream(context.Background(), b.JetStream(), ingest.StreamConfig{})
	require.NoError(t, err)
	return b, b.JetStream(), db, fb
}

// runUntilInsert runs r until its first insert into the events table has
// succeeded, then stops it before it can acknowledge or commit.
func runUntilInsert(t *testing.T, fb *ingesttest.FaultyBackend, r runner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fb.SetAfterInsert(func(in store.Insert) {
		if in.Table == ingest.EventsTable {
			cancel()
		}
	})
	defer fb.SetAfterInsert(nil)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(testTimeout):
		t.Fatal("consumer did not stop after its insert")
	}
}

// envelope is a valid envelope as JSON.
func envelope(tenant, id, typ string, at time.Time, props map[string]any) []byte {
	if props == nil {
		props = map[string]any{}
	}
	switch typ {
	case ingest.TypeQuizSubmitted:
		props["score"] = 72
	case ingest.TypeVideoWatched:
		props["seconds"] = 300
	}
	b, _ := json.Marshal(map[string]any{"id": id, "tenant_id": tenant, "type": typ, "user_id": "u-" + id,
		"occurred_at": at.Format(time.RFC3339Nano), "properties": props})
	return b
}

// nestedJSON is an object nested levels deep: {"a":{"a":…1…}}.
func nestedJSON(levels int) string {
	return strings.Repeat(`{"a":`, levels) + "1" + strings.Repeat("}", levels)
}

// nestedMap is nestedJSON as a value for envelope's properties.
func nestedMap(levels int) map[string]any {
	m := map[string]any{"a": 1}
	for range levels - 1 {
		m = map[string]any{"a": m}
	}
	return m
}

// publish stores data on subject with msgID (none when empty).
func publish(t *testing.T, js jetstream.JetStream, subject string, data []byte, msgID string) {
	t.Helper()
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	_, err := js.PublishMsg(context.Background(), &nats.Msg{Subject: subject, Data: data}, opts...)
	require.NoError(t, err)
}

type counts struct{ final, distinct, raw uint64 }

func countEvents(t *testing.T, db *store.DB, tenant string) counts {
	t.Helper()
	var c counts
	ctx := context.Background()
	require.NoError(t, db.QueryRow(ctx, []any{&c.final}, "SELECT count() FROM events FINAL WHERE tenant_id = ?", tenant))
	require.NoError(t, db.QueryRow(ctx, []any{&c.distinct}, "SELECT count(DISTINCT event_id) FROM events WHERE tenant_id = ?", tenant))
	require.NoError(t, db.QueryRow(ctx, []any{&c.raw}, "SELECT count() FROM events WHERE tenant_id = ?", tenant))
	return c
}

func countDeadLetters(t *testing.T, db *store.DB, tenant string) uint64 {
	t.Helper()
	var n uint64
	require.NoError(t, db.QueryRow(context.Background(), []any{&n}, "SELECT count() FROM dead_letters WHERE tenant_id = ?", tenant))
	return n
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %s", timeout, fmt.Sprintf(format, args...))
		}
		time.Sleep(20 * time.Millisecond) // polling interval of a deadline-bounded wait
	}
}

// runner is something with Run(ctx) error.
type runner interface{ Run(context.Context) error }

// start runs r until the returned stop is called (or the test ends); stop
// waits for Run to return and reports its error.
func start(t *testing.T, r runner) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var stopped bool
	var result error
	stop = func() error {
		if stopped {
			return result
		}
		stopped = true
		cancel()
		select {
		case result = <-done:
		case <-time.After(testTimeout):
			t.Fatalf("consumer did not stop within %s", testTimeout)
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func consumerInfo(t *testing.T, js jetstream.JetStream, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := js.Consumer(context.Background(), ingest.DefaultStreamName, durable)
	require.NoError(t, err)
	info, err := c.Info(context.Background())
	require.NoError(t, err)
	return info
}

// jetstreamSubjects asks stream info for per-subject counts.
func jetstreamSubjects() jetstream.StreamInfoOpt { return jetstream.WithSubjectFilter("events.>") }
