package ingest

import (
	"strconv"
	"time"
)

// Message is one raw envelope as a source delivered it, before validation.
type Message struct {
	// Subject is the NATS subject the envelope was published on.
	Subject string
	// Data is the envelope as published.
	Data []byte
	// ReceivedAt is when the firehose stored it (the JetStream timestamp,
	// carried through Kafka): the events' received_at and the end of the
	// time rules' window.
	ReceivedAt time.Time
	// Trace is the W3C traceparent the producer sent with the envelope
	// (NATS or Kafka header), empty when it sent none.
	Trace string
	// log, partition and offset say where the source keeps the message
	// (a stream and its sequence, partition -1; or a Kafka topic,
	// partition and offset); ID formats them. Only dead letters need the
	// formatted id, so it is not built for every message.
	log       string
	partition int32
	offset    int64
}

// streamMessage is a message at sequence seq of a JetStream stream.
func streamMessage(stream string, seq uint64, subject string, data []byte, at time.Time) Message {
	return Message{Subject: subject, Data: data, ReceivedAt: at, log: stream, partition: -1, offset: int64(seq)}
}

// ID identifies the message in its source, stable across redeliveries
// ("EVENTS:42" for a stream sequence, "analytics.events/3/1207" for a
// Kafka offset). Dead-letter publishes derive their dedup id from it.
func (m Message) ID() string {
	if m.partition < 0 {
		return m.log + ":" + strconv.FormatInt(m.offset, 10)
	}
	return m.log + "/" + strconv.Itoa(int(m.partition)) + "/" + strconv.FormatInt(m.offset, 10)
}
