package ingest

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/platform/errs"
)

// Defaults for the zero values of BridgeConfig.
const (
	DefaultBridgeBatchRows = 10_000
	DefaultBridgeBatchWait = 50 * time.Millisecond
)

// BridgeConfig configures the JetStream → Kafka bridge.
type BridgeConfig struct {
	// Stream is the firehose stream, created or updated at Run.
	Stream StreamConfig
	// Consumer is the durable pull consumer; an empty Durable means
	// DefaultBridgeDurable.
	Consumer ConsumerConfig
	// Kafka is the target; Brokers is required.
	Kafka KafkaConfig
	// BatchRows is how many messages one produce carries at most; zero
	// means DefaultBridgeBatchRows (10 000).
	BatchRows int
	// BatchWait ends a fetch this long after it started; zero means
	// DefaultBridgeBatchWait (50 ms).
	BatchWait time.Duration
	// Retry is the schedule while Kafka is unavailable; zero values mean
	// the Backoff defaults.
	Retry Backoff
}

// KafkaBridge moves the firehose from JetStream into the Kafka topic,
// keyed by tenant, unchanged (validation happens in the sink). It
// acknowledges a NATS message only after Kafka acknowledged it from all
// in-sync replicas; while Kafka is down it retries the batch, keeping it
// in progress, and fetches nothing more.
type KafkaBridge struct {
	b   *bus.Bus
	cfg BridgeConfig
	m   *Metrics
	log *slog.Logger
}

// NewKafkaBridge builds the bridge. m and log may be nil.
func NewKafkaBridge(b *bus.Bus, m *Metrics, log *slog.Logger, cfg BridgeConfig) (*KafkaBridge, error) {
	cfg.Kafka = cfg.Kafka.withDefaults()
	if len(cfg.Kafka.Brokers) == 0 {
		return nil, errs.Invalid("ingest.NewKafkaBridge", "brokers", "Kafka mode needs at least one broker (host:port)")
	}
	if cfg.BatchRows <= 0 {
		cfg.BatchRows = DefaultBridgeBatchRows
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = DefaultBridgeBatchWait
	}
	cfg.Stream = cfg.Stream.withDefaults()
	cfg.Consumer = cfg.Consumer.withDefaults(DefaultBridgeDurable, cfg.BatchRows)
	if m == nil {
		m = NewMetrics(nil)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &KafkaBridge{b: b, cfg: cfg, m: m, log: log}, nil
}

// Run bridges until ctx ends and returns nil then; it fails early only when
// the stream or consumer cannot be set up. A stopped bridge acknowledges
// nothing more; unacknowledged messages are redelivered (and may reach
// Kafka twice, which the sink's dedup absorbs).
func (k *KafkaBridge) Run(ctx context.Context) error {
	js := k.b.JetStream()
	s, err := EnsureStream(ctx, js, k.cfg.Stream)
	if err != nil {
		return err
	}
	cons, err := ensureConsumer(ctx, s, k.cfg.Consumer, DefaultBridgeDurable, k.cfg.BatchRows)
	if err != nil {
		return err
	}
	w := newWriter(k.cfg.Kafka, k.cfg.Kafka.Topic, k.cfg.BatchRows)
	defer w.Close()
	lag := &lagGauge{cons: cons, m: k.m, name: k.cfg.Consumer.Durable}
	for ctx.Err() == nil {
		batch, err := fetchBatch(ctx, cons, k.cfg.Stream.Name, k.cfg.BatchRows, k.cfg.BatchWait)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			k.log.Warn("ingest: bridge fetch failed; retrying", "err", err)
			sleepCtx(ctx, fetchRetryWait)
			continue
		}
		lag.refresh(ctx)
		if len(batch.raw) == 0 {
			continue
		}
		records := kafkaRecords(batch.msgs)
		keepAlive := batch.keepAlive(k.cfg.Consumer.AckWait / 3)
		err = k.cfg.Retry.retry(ctx, func(ctx context.Context) error {
			return w.WriteMessages(ctx, records...)
		}, func(err error, attempt int) {
			k.m.Retries.WithLabelValues("kafka").Inc()
			k.log.Warn("ingest: Kafka write failed; retrying", "attempt", attempt, "err", err)
			keepAlive()
		})
		if err != nil {
			batch.release() // stopped while Kafka was failing: redeliver it now
			break
		}
		if ctx.Err() != nil {
			break
		}
		if err := batch.ack(); err != nil {
			k.log.Warn("ingest: ack failed; the batch will be bridged again", "err", err)
		}
	}
	return nil
}

// kafkaRecords turns firehose messages into records keyed by tenant,
// skipping dead letters of the direct mode.
func kafkaRecords(msgs []Message) []kafka.Message {
	out := make([]kafka.Message, 0, len(msgs))
	for _, m := range msgs {
		if strings.HasPrefix(m.Subject, DLQSubjectPrefix) {
			continue
		}
		out = append(out, kafka.Message{
			Key:   []byte(TenantOfSubject(m.Subject)),
			Value: m.Data,
			Time:  m.ReceivedAt,
			Headers: []kafka.Header{
				{Key: kafkaHeaderSubject, Value: []byte(m.Subject)},
				{Key: kafkaHeaderReceivedAt, Value: strconv.AppendInt(nil, m.ReceivedAt.UnixMilli(), 10)},
				{Key: kafkaHeaderSource, Value: []byte(m.ID)},
			},
		})
	}
	return out
}
