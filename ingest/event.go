// Package ingest is the firehose: learning events arrive as JSON envelopes
// on NATS subjects events.<tenant>.<type> (from producers or from the HTTP
// endpoint), are validated, and land in the ClickHouse events table in
// batches, either straight from a JetStream durable consumer (DirectConsumer,
// the embedded default) or through Kafka (KafkaBridge + KafkaConsumer).
// Invalid envelopes become dead letters with a reason, never silently
// dropped. Delivery is at least once end to end; a batch insert carries a
// deterministic dedup token and the events table collapses redelivered
// events, so duplicates never change a count. Nothing is acknowledged
// (NATS ack, Kafka commit) before ClickHouse has the rows.
package ingest

import (
	"encoding/json"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// Subjects and names of the firehose.
const (
	// SubjectPrefix starts every event subject: events.<tenant>.<type>.
	SubjectPrefix = "events."
	// DLQSubjectPrefix starts dead-letter subjects in direct mode:
	// events.dlq.<tenant or _unknown>. "dlq" is therefore not a valid tenant.
	DLQSubjectPrefix = "events.dlq."
	// NoticeSubjectPrefix starts the per-tenant commit notices on core NATS:
	// analytics.ingest.committed.<tenant>.
	NoticeSubjectPrefix = "analytics.ingest.committed."
	// UnknownTenant files a dead letter whose tenant could not be read.
	UnknownTenant = "_unknown"
	// EventsTable is the ClickHouse table the sink writes.
	EventsTable = "events"
)

// timeLayout is how envelope times are written: RFC 3339, UTC, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Event is a validated envelope, normalised: times in UTC with millisecond
// precision, properties a compact JSON object ({} when absent).
type Event struct {
	ID         string
	TenantID   string
	Type       string
	UserID     string
	SessionID  string
	OccurredAt time.Time
	// ReceivedAt is when the firehose stored the event (the JetStream
	// timestamp), so a redelivery carries the same value.
	ReceivedAt time.Time
	Properties json.RawMessage
}

// envelopeJSON is the wire form of an Event.
type envelopeJSON struct {
	ID         string          `json:"id"`
	TenantID   string          `json:"tenant_id"`
	Type       string          `json:"type"`
	UserID     string          `json:"user_id"`
	OccurredAt string          `json:"occurred_at"`
	SessionID  string          `json:"session_id,omitempty"`
	Properties json.RawMessage `json:"properties"`
}

// Subject is the NATS subject the event travels on.
func (e Event) Subject() string { return Subject(e.TenantID, e.Type) }

// MsgID is the Nats-Msg-Id that deduplicates publishes of the event. It is
// the event id qualified by the tenant, so two tenants that happen to use
// the same id never shadow each other.
func (e Event) MsgID() string { return e.TenantID + ":" + e.ID }

// MarshalJSON writes the envelope (without received_at, which the firehose
// stamps).
func (e Event) MarshalJSON() ([]byte, error) {
	props := e.Properties
	if len(props) == 0 {
		props = json.RawMessage("{}")
	}
	return json.Marshal(envelopeJSON{
		ID: e.ID, TenantID: e.TenantID, Type: e.Type, UserID: e.UserID,
		OccurredAt: e.OccurredAt.UTC().Format(timeLayout), SessionID: e.SessionID, Properties: props,
	})
}

// Subject returns events.<tenant>.<type>.
func Subject(tenant, typ string) string { return SubjectPrefix + tenant + "." + typ }

// appendRow appends the event's values as a row of EventsTable, in
// eventColumns order.
func (e *Event) appendRow(dst []any) []any {
	return append(dst, e.TenantID, e.ID, e.Type, e.UserID, e.SessionID, e.OccurredAt, e.ReceivedAt, store.ValidJSON(e.Properties))
}

// eventColumns are the columns the sink writes, in row order.
func eventColumns() []string {
	return []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}
}
