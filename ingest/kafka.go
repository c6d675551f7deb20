package ingest

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Defaults for the zero values of KafkaConfig.
const (
	DefaultKafkaTopic        = "analytics.events"
	DefaultKafkaDLQTopic     = "analytics.events.dlq"
	DefaultKafkaGroupID      = "analytics-clickhouse-sink"
	DefaultKafkaPartitions   = 6
	DefaultKafkaReplication  = 1
	DefaultKafkaBatchTimeout = time.Millisecond
	DefaultKafkaWriteTimeout = 10 * time.Second
)

// kafkaBatchBytes bounds one produce batch per partition: Kafka's default
// message.max.bytes (1 MiB) refuses larger ones.
const kafkaBatchBytes = 1 << 20

// kafkaFetchPartitionBytes bounds what one fetch takes from a partition.
// The consumer buffers one fetch while the sink inserts, so a fetch of a
// few MiB (some 10 000 bench envelopes) has part of the next batch ready
// when the insert returns, instead of 1 MiB and a round trip per 1 MiB
// after it. Larger is not better: at 16 MiB the pipeline spent ~0.5 µs
// more CPU per event (13.2-13.9 against 13.1-13.4 µs at 4 MiB; 2 MiB:
// 14.6-15.0 µs), most of it growing and copying the broker's responses.
const kafkaFetchPartitionBytes = 4 << 20

// Kafka record headers set by the bridge.
const (
	kafkaHeaderSubject    = "nats-subject"
	kafkaHeaderReceivedAt = "received-at" // unix milliseconds of the JetStream timestamp
)

// KafkaConfig says which Kafka carries the durable log and how.
type KafkaConfig struct {
	// Brokers are host:port seeds; required in Kafka mode.
	Brokers []string
	// Topic is the event log; empty means DefaultKafkaTopic.
	Topic string
	// DLQTopic receives refused envelopes; empty means DefaultKafkaDLQTopic.
	DLQTopic string
	// GroupID is the sink's consumer group; empty means DefaultKafkaGroupID.
	GroupID string
	// Partitions of topics EnsureKafkaTopics creates; zero means
	// DefaultKafkaPartitions. Events are keyed by tenant.
	Partitions int
	// ReplicationFactor of topics EnsureKafkaTopics creates; zero means
	// DefaultKafkaReplication.
	ReplicationFactor int
	// BatchTimeout is how long the producer waits to fill a batch; zero
	// means DefaultKafkaBatchTimeout (1 ms). Every writer here is
	// synchronous and hands over all its records at once, so the wait only
	// delays the last, partly filled batch of each write: kafka-go's own
	// default of 1 s would add a second to every write, and 10 ms added
	// 10 ms to each of the bridge's 10 000-record writes (100 000 records
	// into kfake: 0.24 s at 10 ms, 0.15 s at 1 ms).
	BatchTimeout time.Duration
	// WriteTimeout bounds one produce attempt; zero means
	// DefaultKafkaWriteTimeout.
	WriteTimeout time.Duration
}

// EnsureKafkaTopics creates the event and dead-letter topics when absent
// (existing topics are left as they are).
func EnsureKafkaTopics(ctx context.Context, cfg KafkaConfig) error {
	const op = "ingest.EnsureKafkaTopics"
	cfg = cfg.withDefaults()
	if len(cfg.Brokers) == 0 {
		return errs.Invalid(op, "brokers", "Kafka mode needs at least one broker (host:port)")
	}
	var d kafka.Dialer
	conn, err := d.DialContext(ctx, "tcp", cfg.Brokers[0])
	if err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "cannot reach Kafka at "+cfg.Brokers[0])
	}
	defer conn.Close()
	ctrl, err := conn.Controller()
	if err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "cannot find the Kafka controller")
	}
	cc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ctrl.Host, strconv.Itoa(ctrl.Port)))
	if err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "cannot reach the Kafka controller")
	}
	defer cc.Close()
	var topics []kafka.TopicConfig
	for _, t := range []string{cfg.Topic, cfg.DLQTopic} {
		topics = append(topics, kafka.TopicConfig{Topic: t, NumPartitions: cfg.Partitions, ReplicationFactor: cfg.ReplicationFactor})
	}
	if err := cc.CreateTopics(topics...); err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return errs.Wrap(op, errs.KindUnavailable, err, "cannot create the Kafka topics")
	}
	return nil
}

// newWriter is a synchronous producer that returns only when every
// in-sync replica has the records (RequiredAcks all), keyed by tenant.
func newWriter(cfg KafkaConfig, topic string, batch int) *kafka.Writer {
	return &kafka.Writer{
		Addr:                   kafka.TCP(cfg.Brokers...),
		Topic:                  topic,
		Balancer:               &kafka.Hash{},
		RequiredAcks:           kafka.RequireAll,
		BatchTimeout:           cfg.BatchTimeout,
		BatchSize:              max(batch, 1),
		BatchBytes:             kafkaBatchBytes,
		WriteTimeout:           cfg.WriteTimeout,
		ReadTimeout:            cfg.WriteTimeout,
		MaxAttempts:            3,
		WriteBackoffMin:        50 * time.Millisecond,
		WriteBackoffMax:        500 * time.Millisecond,
		AllowAutoTopicCreation: false,
	}
}

// kafkaDLQ publishes dead letters to the DLQ topic.
type kafkaDLQ struct {
	w *kafka.Writer
}

// Publish implements DeadLetterQueue.
func (q kafkaDLQ) Publish(ctx context.Context, letters []DeadLetter) error {
	msgs := make([]kafka.Message, len(letters))
	for i, dl := range letters {
		var hs []kafka.Header
		for k, v := range dl.headers() {
			hs = append(hs, kafka.Header{Key: k, Value: []byte(v[0])})
		}
		msgs[i] = kafka.Message{Key: []byte(dl.TenantID), Value: dl.Payload, Headers: hs, Time: dl.ReceivedAt}
	}
	if err := q.w.WriteMessages(ctx, msgs...); err != nil {
		return errs.Wrap("ingest.kafkaDLQ", errs.KindUnavailable, err, "cannot write dead letters to Kafka")
	}
	return nil
}

func (c KafkaConfig) withDefaults() KafkaConfig {
	if c.Topic == "" {
		c.Topic = DefaultKafkaTopic
	}
	if c.DLQTopic == "" {
		c.DLQTopic = DefaultKafkaDLQTopic
	}
	if c.GroupID == "" {
		c.GroupID = DefaultKafkaGroupID
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultKafkaPartitions
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = DefaultKafkaReplication
	}
	if c.BatchTimeout == 0 {
		c.BatchTimeout = DefaultKafkaBatchTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultKafkaWriteTimeout
	}
	return c
}
