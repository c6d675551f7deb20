package ingest

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/errs"
)

// Defaults for the zero values of StreamConfig and ConsumerConfig.
const (
	DefaultStreamName      = "EVENTS"
	DefaultStreamSubjects  = "events.>"
	DefaultStreamMaxAge    = 7 * 24 * time.Hour
	DefaultStreamMaxBytes  = -1 // unlimited
	DefaultDuplicateWindow = 5 * time.Minute

	DefaultDirectDurable = "analytics-clickhouse-sink"
	DefaultBridgeDurable = "analytics-kafka-bridge"
	DefaultAckWait       = 30 * time.Second
	// DefaultMaxAckPending is two default batches: one being inserted, one
	// being collected.
	DefaultMaxAckPending = 2 * DefaultBatchRows
)

// StreamConfig lays out the firehose stream.
type StreamConfig struct {
	// Name of the JetStream stream; empty means DefaultStreamName (EVENTS).
	Name string
	// MaxAge is how long events stay in the stream after arrival (also
	// after they were consumed); zero means DefaultStreamMaxAge (7 days).
	MaxAge time.Duration
	// MaxBytes caps the stream; when full, publishes fail (DiscardNew), so
	// producers slow down rather than unconsumed events being dropped. Zero
	// means DefaultStreamMaxBytes (unlimited).
	MaxBytes int64
	// DuplicateWindow is how long a Nats-Msg-Id is remembered, so a producer
	// retrying a publish stores the event once; zero means
	// DefaultDuplicateWindow (5 minutes). Later duplicates are collapsed by
	// ClickHouse instead.
	DuplicateWindow time.Duration
	// Replicas on a NATS cluster; zero means automatic (bus.AutoReplicas:
	// 3 on a cluster of three or more servers, 1 otherwise).
	Replicas int
	// Memory keeps the stream in memory instead of on disk (benchmarks);
	// false (the default) is file storage.
	Memory bool
}

// ConsumerConfig shapes a durable pull consumer on the firehose stream.
type ConsumerConfig struct {
	// Durable names the consumer; empty means the role's default
	// (DefaultDirectDurable or DefaultBridgeDurable).
	Durable string
	// AckWait is how long a delivered event may stay unacknowledged before
	// it is redelivered; zero means DefaultAckWait (30 s). Batches in
	// progress keep their events alive (InProgress) while they retry.
	AckWait time.Duration
	// MaxAckPending bounds the events delivered and not yet acknowledged:
	// the backpressure limit. Zero means DefaultMaxAckPending. It must be at
	// least the batch size.
	MaxAckPending int
}

// EnsureStream creates the firehose stream, or updates it to cfg when it
// exists, and returns it.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (jetstream.Stream, error) {
	cfg = cfg.withDefaults()
	if cfg.Replicas == 0 {
		cfg.Replicas = bus.AutoReplicas(js.Conn())
	}
	storage := jetstream.FileStorage
	if cfg.Memory {
		storage = jetstream.MemoryStorage
	}
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        cfg.Name,
		Description: "incoming learning events events.<tenant>.<type> and dead letters events.dlq.<tenant>; see docs/events.md",
		Subjects:    []string{DefaultStreamSubjects},
		Storage:     storage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		MaxAge:      cfg.MaxAge,
		MaxBytes:    cfg.MaxBytes,
		MaxMsgSize:  DefaultMaxEnvelopeSize * 2,
		Duplicates:  cfg.DuplicateWindow,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, errs.Wrap("ingest.EnsureStream", errs.KindUnavailable, err, "cannot create or update stream "+cfg.Name)
	}
	return s, nil
}

// ensureConsumer creates or updates the durable pull consumer.
func ensureConsumer(ctx context.Context, s jetstream.Stream, cfg ConsumerConfig, defaultDurable string, batch int) (jetstream.Consumer, error) {
	cfg = cfg.withDefaults(defaultDurable, batch)
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       cfg.Durable,
		Description:   "firehose consumer; acknowledges only what is durably stored downstream",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxAckPending: cfg.MaxAckPending,
		MaxDeliver:    -1, // never give up on an event: redeliver until it is stored
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, errs.Wrap("ingest.ensureConsumer", errs.KindUnavailable, err, "cannot create or update consumer "+cfg.Durable)
	}
	return c, nil
}

func (c StreamConfig) withDefaults() StreamConfig {
	if c.Name == "" {
		c.Name = DefaultStreamName
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultStreamMaxAge
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultStreamMaxBytes
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	return c
}

func (c ConsumerConfig) withDefaults(durable string, batch int) ConsumerConfig {
	if c.Durable == "" {
		c.Durable = durable
	}
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = DefaultMaxAckPending
	}
	c.MaxAckPending = max(c.MaxAckPending, batch)
	return c
}
