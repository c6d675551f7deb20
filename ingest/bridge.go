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
// keyed by tenant, unchanged (validation happens in the sink). It fetches
// the next batch while Kafka takes the current one (a prefetcher, as in
// direct mode), and acknowledges a NATS message only after Kafka
// acknowledged its batch from all in-sync replicas; while Kafka is down it
// retries the batch, keeping it and the one fetched behind it in progress,
// and fetches nothing more.
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
	g := &gate{}
	written := newSpares[kafkaBatch]() // the records of batches Kafka took at once
	pf := &prefetcher[kafkaBatch]{
		cons: cons, stream: k.cfg.Stream.Name, rows: k.cfg.BatchRows, wait: k.cfg.BatchWait,
		keepAlive: k.cfg.Consumer.AckWait / 3, gate: g, log: k.log,
		prepare: func(b *jsBatch) kafkaBatch { return kafkaRecords(written.get(), b.msgs) },
		lag:     &lagGauge{cons: cons, m: k.m, name: k.cfg.Consumer.Durable},
		spare:   newSpares[*jsBatch](),
	}
	next, stop := pf.start(ctx)
	defer stop()
	for p := range next {
		keepAlive := p.batch.keepAlive(k.cfg.Consumer.AckWait / 3)
		failed := false
		err := k.cfg.Retry.retry(ctx, func(ctx context.Context) error {
			return w.WriteMessages(ctx, p.prepared.records...)
		}, func(err error, attempt int) {
			failed = true
			k.m.Retries.WithLabelValues("kafka").Inc()
			k.log.Warn("ingest: Kafka write failed; retrying", "attempt", attempt, "err", err)
			g.close()
			keepAlive()
		})
		if err != nil {
			p.batch.release() // stopped while Kafka was failing: redeliver it now
			break
		}
		g.open()
		if ctx.Err() != nil {
			break
		}
		if err := p.batch.ack(); err != nil {
			k.log.Warn("ingest: ack failed; the batch will be bridged again", "err", err)
		}
		pf.recycle(p.batch)
		// Only the records of a batch Kafka took at the first attempt are
		// reused: after a failed attempt, a timed-out request of it could
		// in principle still be encoding them.
		if !failed {
			written.put(p.prepared.reset())
		}
	}
	return nil
}

// kafkaBatch is a batch's Kafka records and the arrays behind their
// headers, reused once Kafka has taken them.
type kafkaBatch struct {
	records []kafka.Message
	headers []kafka.Header
	stamps  []byte
}

// reset empties b for reuse, dropping its references to the messages.
func (b kafkaBatch) reset() kafkaBatch {
	clear(b.records)
	clear(b.headers)
	return kafkaBatch{records: b.records[:0], headers: b.headers[:0], stamps: b.stamps[:0]}
}

// kafkaRecords turns firehose messages into records keyed by tenant,
// skipping dead letters of the direct mode, in spare's slices when they
// are large enough. Records of one subject share their key and subject
// bytes, and the headers of a batch share one backing array (kafka-go only
// reads them), which keeps the bridge's allocations per record low.
func kafkaRecords(spare kafkaBatch, msgs []Message) kafkaBatch {
	type subjectBytes struct{ key, subject []byte }
	out, headers, stamps := spare.records[:0], spare.headers[:0], spare.stamps[:0]
	if cap(out) < len(msgs) || cap(headers) < 2*len(msgs) || cap(stamps) < 14*len(msgs) {
		out = make([]kafka.Message, 0, len(msgs))
		headers = make([]kafka.Header, 0, 2*len(msgs))
		stamps = make([]byte, 0, 14*len(msgs)) // unix milliseconds: 13 digits until 2286
	}
	subjects := map[string]subjectBytes{}
	for _, m := range msgs {
		if strings.HasPrefix(m.Subject, DLQSubjectPrefix) {
			continue
		}
		sb, ok := subjects[m.Subject]
		if !ok {
			sb = subjectBytes{key: []byte(TenantOfSubject(m.Subject)), subject: []byte(m.Subject)}
			subjects[m.Subject] = sb
		}
		from := len(stamps)
		stamps = strconv.AppendInt(stamps, m.ReceivedAt.UnixMilli(), 10)
		h := len(headers)
		headers = append(headers,
			kafka.Header{Key: kafkaHeaderSubject, Value: sb.subject},
			kafka.Header{Key: kafkaHeaderReceivedAt, Value: stamps[from:len(stamps):len(stamps)]})
		if m.Trace != "" {
			headers = append(headers, kafka.Header{Key: traceparentHeader, Value: []byte(m.Trace)})
		}
		out = append(out, kafka.Message{Key: sb.key, Value: m.Data, Time: m.ReceivedAt, Headers: headers[h:len(headers):len(headers)]})
	}
	return kafkaBatch{records: out, headers: headers, stamps: stamps}
}
