package ingest

import "time"

// Message is one raw envelope as a source delivered it, before validation.
type Message struct {
	// ID identifies the message in its source, stable across redeliveries
	// ("EVENTS:42" for a stream sequence, "analytics.events/3/1207" for a
	// Kafka offset). Dead-letter publishes derive their dedup id from it.
	ID string
	// Subject is the NATS subject the envelope was published on.
	Subject string
	// Data is the envelope as published.
	Data []byte
	// ReceivedAt is when the firehose stored it (the JetStream timestamp,
	// carried through Kafka): the events' received_at and the end of the
	// time rules' window.
	ReceivedAt time.Time
}
