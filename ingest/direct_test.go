package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/resultcache"
)

// malformed are envelopes the firehose must refuse, with the reason.
func malformed(tenant string, now time.Time) []struct {
	subject string
	data    []byte
	reason  ingest.Reason
} {
	at := now.Add(-time.Hour).Format(time.RFC3339)
	return []struct {
		subject string
		data    []byte
		reason  ingest.Reason
	}{
		{ingest.Subject(tenant, "user.login"), []byte(`{"id":`), ingest.ReasonInvalidJSON},
		{ingest.Subject(tenant, "user.login"), []byte(`{"tenant_id":"` + tenant + `","type":"user.login","user_id":"u","occurred_at":"` + at + `"}`), ingest.ReasonMissingField},
		{ingest.Subject(tenant, "user.login"), envelope("other", "m3", "user.login", now.Add(-time.Hour), nil), ingest.ReasonTenantMismatch},
		{ingest.Subject(tenant, "user.login"), envelope(tenant, "m4", "user.login", now.AddDate(-2, 0, 0), nil), ingest.ReasonTimeTooOld},
		{ingest.Subject(tenant, "user.login"), envelope(tenant, "m5", "user.login", now.Add(48*time.Hour), nil), ingest.ReasonTimeInFuture},
		{ingest.Subject(tenant, "user.login"), []byte(`{"id":"m6","tenant_id":"` + tenant + `","type":"user.login","user_id":"u","occurred_at":"` + at + `","properties":[1]}`), ingest.ReasonInvalidProperties},
		{ingest.Subject(tenant, "quiz.submitted"), []byte(`{"id":"m7","tenant_id":"` + tenant + `","type":"quiz.submitted","user_id":"u","occurred_at":"` + at + `","properties":{"score":150}}`), ingest.ReasonInvalidProperty},
		{ingest.Subject(tenant, "user.login"), []byte(`{"id":"m8","tenant_id":"` + tenant + `","type":"user.login","user_id":"u","occurred_at":"2026-01-01 10:00:00"}`), ingest.ReasonInvalidTime},
		// ClickHouse would refuse it (rejected_by_store); the decoder says why first.
		{ingest.Subject(tenant, "user.login"), []byte(`{"id":"m9","tenant_id":"` + tenant + `","type":"user.login","user_id":"u","occurred_at":"` + at + `","properties":` + nestedJSON(2000) + `}`), ingest.ReasonTooDeep},
	}
}

func TestDirectDuplicatesAndDeadLetters(t *testing.T) {
	b, js, db, _ := firehose(t)
	const tenant, n = "acme", 300
	now := time.Now().UTC()

	notices := make(chan *nats.Msg, 100)
	sub, err := b.Conn().ChanSubscribe(ingest.NoticeSubject(tenant), notices)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Unsubscribe() })

	types := ingest.KnownTypes()
	for i := range n {
		var props map[string]any
		if i == 1 { // the deepest envelope accepted (ingest.MaxDepth levels) is stored
			props = nestedMap(ingest.MaxDepth - 1)
		}
		ev := envelope(tenant, fmt.Sprintf("e-%d", i), types[i%len(types)], now.Add(-time.Duration(i)*time.Minute), props)
		subj := ingest.Subject(tenant, types[i%len(types)])
		publish(t, js, subj, ev, tenant+":e-"+fmt.Sprint(i))
		switch {
		case i < 50: // a producer retry: JetStream drops it (same Nats-Msg-Id)
			publish(t, js, subj, ev, tenant+":e-"+fmt.Sprint(i))
		case i < 100: // a duplicate without msg id: ClickHouse collapses it
			publish(t, js, subj, ev, "")
		}
	}
	bad := malformed(tenant, now)
	for _, m := range bad {
		publish(t, js, m.subject, m.data, "")
	}
	// A subject that names no tenant at all.
	publish(t, js, "events.NOT_A_TENANT", envelope(tenant, "x", "user.login", now, nil), "")

	c := ingest.NewDirectConsumer(b, db, nil, nil, ingest.DirectConfig{Sink: fastSink})
	stop := start(t, c)
	eventually(t, testTimeout, func() bool {
		return countEvents(t, db, tenant).final == n && countDeadLetters(t, db, tenant) == uint64(len(bad))
	}, "%d events and %d dead letters stored", n, len(bad))
	eventually(t, testTimeout, func() bool {
		info := consumerInfo(t, js, ingest.DefaultDirectDurable)
		return info.NumAckPending == 0 && info.NumPending == 0
	}, "everything acknowledged")
	require.NoError(t, stop())

	got := countEvents(t, db, tenant)
	assert.Equal(t, uint64(n), got.final)
	assert.Equal(t, uint64(n), got.distinct)
	assert.Equal(t, uint64(1), countDeadLetters(t, db, ingest.UnknownTenant))

	// Every refused envelope is in the DLQ with its reason and bytes.
	want := map[string]ingest.Reason{}
	for _, m := range bad {
		want[string(m.data)] = m.reason
	}
	rows, err := db.Query(context.Background(), "SELECT payload, reason_code, reason, subject FROM dead_letters WHERE tenant_id = ?", tenant)
	require.NoError(t, err)
	got2 := map[string]ingest.Reason{}
	for rows.Next() {
		var payload, code, reason, subject string
		require.NoError(t, rows.Scan(&payload, &code, &reason, &subject))
		got2[payload] = ingest.Reason(code)
		assert.NotEmpty(t, reason)
	}
	require.NoError(t, rows.Close())
	assert.Equal(t, want, got2)

	s, err := js.Stream(context.Background(), ingest.DefaultStreamName)
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstreamSubjects())
	require.NoError(t, err)
	assert.Equal(t, uint64(len(bad)), info.State.Subjects[ingest.DLQSubjectPrefix+tenant], "DLQ subject holds every refused envelope once")
	assert.Equal(t, uint64(1), info.State.Subjects[ingest.DLQSubjectPrefix+ingest.UnknownTenant])
	dl, err := s.GetLastMsgForSubject(context.Background(), ingest.DLQSubjectPrefix+tenant)
	require.NoError(t, err)
	assert.NotEmpty(t, dl.Header.Get(ingest.HeaderReason))
	assert.NotEmpty(t, dl.Header.Get(ingest.HeaderReceivedAt))

	// Notices summarised the commits.
	var total int
	var oldest time.Time
	for len(notices) > 0 {
		m := <-notices
		var no ingest.Notice
		require.NoError(t, json.Unmarshal(m.Data, &no))
		assert.Equal(t, tenant, no.Tenant)
		assert.NotEmpty(t, no.Types)
		assert.False(t, no.OldestOccurredAt.After(no.NewestOccurredAt), "oldest %s after newest %s", no.OldestOccurredAt, no.NewestOccurredAt)
		assert.Equal(t, resultcache.Change{Tenant: tenant, Since: no.OldestOccurredAt}, ingest.NoticeChange(m), "the results cache reads the notice's tenant and oldest time")
		if oldest.IsZero() || no.OldestOccurredAt.Before(oldest) {
			oldest = no.OldestOccurredAt
		}
		total += no.Count
	}
	assert.GreaterOrEqual(t, total, n, "notices count every committed event")
	assert.WithinDuration(t, now.Add(-time.Duration(n-1)*time.Minute), oldest, time.Millisecond, "the notices reach back to the oldest committed event")
}

func TestDirectStopBetweenInsertAndAck(t *testing.T) {
	b, js, db, fb := firehose(t)
	const tenant, n = "crash", 200
	now := time.Now().UTC()
	for i := range n {
		publish(t, js, ingest.Subject(tenant, "lesson.started"), envelope(tenant, fmt.Sprintf("c-%d", i), "lesson.started", now.Add(-time.Minute), nil), "")
	}
	cfg := ingest.DirectConfig{Sink: fastSink, Consumer: ingest.ConsumerConfig{AckWait: time.Second}}
	cfg.Sink.BatchWait = 500 * time.Millisecond

	// First run: the consumer is stopped right after its insert succeeded.
	runUntilInsert(t, fb, ingest.NewDirectConsumer(b, db, nil, nil, cfg))
	require.Equal(t, uint64(n), countEvents(t, db, tenant).final, "the insert happened")
	info := consumerInfo(t, js, ingest.DefaultDirectDurable)
	require.Equal(t, uint64(0), info.AckFloor.Stream, "nothing was acknowledged")

	// Restart: the batch comes back, its insert is deduplicated, then acked.
	stop := start(t, ingest.NewDirectConsumer(b, db, nil, nil, cfg))
	eventually(t, testTimeout, func() bool {
		info := consumerInfo(t, js, ingest.DefaultDirectDurable)
		return info.NumAckPending == 0 && info.NumPending == 0 && info.AckFloor.Stream == n
	}, "redelivered batch acknowledged")
	require.NoError(t, stop())
	got := countEvents(t, db, tenant)
	assert.Equal(t, counts{final: n, distinct: n, raw: n}, got, "no loss and no duplicate, not even before merges")
}

func TestDirectClickHouseDown(t *testing.T) {
	b, js, db, fb := firehose(t)
	const tenant, n = "outage", 120
	now := time.Now().UTC()
	fb.SetDown(true)
	for i := range n {
		publish(t, js, ingest.Subject(tenant, "user.login"), envelope(tenant, fmt.Sprintf("o-%d", i), "user.login", now, nil), "")
	}
	cfg := ingest.DirectConfig{Sink: fastSink, Consumer: ingest.ConsumerConfig{AckWait: time.Second}}
	stop := start(t, ingest.NewDirectConsumer(b, db, nil, nil, cfg))

	eventually(t, testTimeout, func() bool { return fb.FailedInserts() >= 5 }, "inserts retried")
	// More events while ClickHouse is down: they are not fetched (backpressure).
	for i := n; i < 2*n; i++ {
		publish(t, js, ingest.Subject(tenant, "user.login"), envelope(tenant, fmt.Sprintf("o-%d", i), "user.login", now, nil), "")
	}
	eventually(t, testTimeout, func() bool { return fb.FailedInserts() >= 30 }, "retries go on for several ack waits")
	info := consumerInfo(t, js, ingest.DefaultDirectDurable)
	assert.Equal(t, uint64(0), info.AckFloor.Stream, "nothing acknowledged while ClickHouse is down")
	assert.Equal(t, n, info.NumAckPending, "the first batch stays in flight")
	assert.Equal(t, uint64(n), info.NumPending, "the rest waits in the stream")
	assert.Equal(t, 0, info.NumRedelivered, "in-progress signals keep the batch from being redelivered")
	assert.Equal(t, uint64(0), countEvents(t, db, tenant).raw)

	fb.SetDown(false)
	eventually(t, testTimeout, func() bool {
		info := consumerInfo(t, js, ingest.DefaultDirectDurable)
		return info.NumAckPending == 0 && info.NumPending == 0
	}, "everything acknowledged once ClickHouse is back")
	require.NoError(t, stop())
	assert.Equal(t, counts{final: 2 * n, distinct: 2 * n, raw: 2 * n}, countEvents(t, db, tenant))
}
