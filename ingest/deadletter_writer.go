package ingest

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Headers on a dead-letter message (JetStream and Kafka alike); the body is
// the original envelope bytes.
const (
	HeaderReason          = "Analytics-Reason"           // machine reason code
	HeaderReasonMessage   = "Analytics-Reason-Message"   // human sentence
	HeaderOriginalSubject = "Analytics-Original-Subject" // where it was published
	HeaderReceivedAt      = "Analytics-Received-At"      // RFC 3339, UTC, ms
	// DeadLettersTable is the ClickHouse table of refused envelopes.
	DeadLettersTable = "dead_letters"
)

// DeadLetter is a refused envelope with the reason.
type DeadLetter struct {
	// SourceID is the message's id in its source (see Message.ID).
	SourceID   string
	TenantID   string // the subject's tenant, or UnknownTenant
	ReceivedAt time.Time
	Subject    string
	Reason     Reason
	Message    string // what was wrong and what would be right
	Payload    []byte // the original bytes
}

// DeadLetterQueue is where refused envelopes are published besides the
// dead_letters table: JetStream in direct mode, Kafka in Kafka mode.
type DeadLetterQueue interface {
	// Publish stores every letter durably or fails; a retry may publish a
	// letter again.
	Publish(ctx context.Context, letters []DeadLetter) error
}

// jetStreamDLQ publishes dead letters on events.dlq.<tenant>.
type jetStreamDLQ struct {
	js jetstream.JetStream
}

// DeadLetterWriter stores envelopes refused outside the sink (the lines
// POST /v1/events refuses) the way the sink stores its own: published on
// the JetStream dead-letter subject events.dlq.<tenant> and recorded in the
// dead_letters table, counted by reason. One attempt per Write: its caller
// answers a request and lets the client retry.
type DeadLetterWriter struct {
	q  DeadLetterQueue
	db *store.DB
	m  *Metrics
}

// attemptFunc runs one step of storing dead letters (stage names it for
// metrics and logs); the sink retries it with backoff, the HTTP endpoint
// tries once.
type attemptFunc func(ctx context.Context, stage string, op func(context.Context) error) error

// newDeadLetter builds the letter for a refused message.
func newDeadLetter(m Message, rej *Rejection) DeadLetter {
	return DeadLetter{
		SourceID: m.ID(), TenantID: TenantOfSubject(m.Subject), ReceivedAt: m.ReceivedAt.UTC().Truncate(time.Millisecond),
		Subject: m.Subject, Reason: rej.Code, Message: rej.Error(), Payload: m.Data,
	}
}

// NewDeadLetterWriter publishes on js and records in db; m may be nil
// (instruments kept unregistered).
func NewDeadLetterWriter(js jetstream.JetStream, db *store.DB, m *Metrics) *DeadLetterWriter {
	if m == nil {
		m = NewMetrics(nil)
	}
	return &DeadLetterWriter{q: jetStreamDLQ{js: js}, db: db, m: m}
}

// Write stores letters durably or fails (unavailable). token must be a
// deterministic function of the letters, so a retried Write records them
// once; the JetStream publishes deduplicate by SourceID.
func (w *DeadLetterWriter) Write(ctx context.Context, letters []DeadLetter, token string) error {
	return storeDeadLetters(ctx, w.db, w.q, w.m, letters, token, func(ctx context.Context, _ string, op func(context.Context) error) error {
		return op(ctx)
	})
}

// storeDeadLetters publishes letters to q (nil: none), records them in the
// dead_letters table with token, then counts them. attempt runs each step.
func storeDeadLetters(ctx context.Context, db *store.DB, q DeadLetterQueue, m *Metrics, letters []DeadLetter, token string, attempt attemptFunc) error {
	if len(letters) == 0 {
		return nil
	}
	if q != nil {
		if err := attempt(ctx, "dlq", func(ctx context.Context) error { return q.Publish(ctx, letters) }); err != nil {
			return err
		}
	}
	if err := attempt(ctx, "dead_letters", func(ctx context.Context) error {
		return recordDeadLetters(ctx, db, letters, token)
	}); err != nil {
		return err
	}
	for _, dl := range letters {
		m.DeadLetters.WithLabelValues(string(dl.Reason)).Inc()
	}
	return nil
}

// Publish implements DeadLetterQueue: one publish per letter, awaited, with
// Nats-Msg-Id dlq:<source id> so a retried batch stores each letter once.
func (q jetStreamDLQ) Publish(ctx context.Context, letters []DeadLetter) error {
	futures := make([]jetstream.PubAckFuture, 0, len(letters))
	for _, dl := range letters {
		msg := &nats.Msg{Subject: DLQSubjectPrefix + dl.TenantID, Data: dl.Payload, Header: dl.headers()}
		f, err := q.js.PublishMsgAsync(msg, jetstream.WithMsgID("dlq:"+dl.SourceID))
		if err != nil {
			return errs.Wrap("ingest.jetStreamDLQ", errs.KindUnavailable, err, "cannot publish a dead letter")
		}
		futures = append(futures, f)
	}
	return awaitAcks(ctx, futures)
}

// headers are the dead-letter headers.
func (dl DeadLetter) headers() nats.Header {
	h := nats.Header{}
	h.Set(HeaderReason, string(dl.Reason))
	h.Set(HeaderReasonMessage, headerSafe(dl.Message))
	h.Set(HeaderOriginalSubject, headerSafe(dl.Subject))
	h.Set(HeaderReceivedAt, dl.ReceivedAt.Format(timeLayout))
	return h
}

// awaitAcks waits for every publish acknowledgement; the first failure wins.
func awaitAcks(ctx context.Context, futures []jetstream.PubAckFuture) error {
	var first error
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if first == nil {
				first = errs.Wrap("ingest.awaitAcks", errs.KindUnavailable, err, "JetStream did not store a message")
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return first
}

// recordDeadLetters writes letters to the dead_letters table.
func recordDeadLetters(ctx context.Context, db *store.DB, letters []DeadLetter, token string) error {
	rows := make([][]any, len(letters))
	for i, dl := range letters {
		rows[i] = []any{dl.TenantID, dl.ReceivedAt, dl.Subject, string(dl.Reason), dl.Message, dl.Payload}
	}
	return db.Insert(ctx, store.Insert{
		Table:      DeadLettersTable,
		Columns:    []string{"tenant_id", "received_at", "subject", "reason_code", "reason", "payload"},
		Rows:       rows,
		DedupToken: token,
	})
}

// headerSafe drops the characters a NATS or Kafka header value cannot hold.
func headerSafe(s string) string {
	out := []byte(clip(s))
	for i, c := range out {
		if c == '\r' || c == '\n' {
			out[i] = ' '
		}
	}
	return string(out)
}
