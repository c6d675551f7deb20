package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/kafka-go"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// KafkaConsumerConfig configures the Kafka → ClickHouse sink.
type KafkaConsumerConfig struct {
	// Kafka is the source; Brokers is required.
	Kafka KafkaConfig
	// Sink shapes batches and the ClickHouse writes.
	Sink SinkConfig
}

// KafkaConsumer feeds the events table from the Kafka topic through a
// consumer group: collect a batch, Sink.Commit it with the token
// topic/partition:first-last per partition, then commit the offsets. An
// offset is never committed before ClickHouse has its rows.
type KafkaConsumer struct {
	sink *Sink
	cfg  KafkaConsumerConfig
	m    *Metrics
	log  *slog.Logger
}

// NewKafkaConsumer builds the sink side of Kafka mode. nc (may be nil)
// carries the commit notices; m and log may be nil.
func NewKafkaConsumer(nc *nats.Conn, db *store.DB, m *Metrics, log *slog.Logger, cfg KafkaConsumerConfig) (*KafkaConsumer, error) {
	cfg.Kafka = cfg.Kafka.withDefaults()
	if len(cfg.Kafka.Brokers) == 0 {
		return nil, errs.Invalid("ingest.NewKafkaConsumer", "brokers", "Kafka mode needs at least one broker (host:port)")
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	sink := NewSink(db, nc, m, log, cfg.Sink)
	cfg.Sink = sink.Config()
	return &KafkaConsumer{sink: sink, cfg: cfg, m: m, log: log}, nil
}

// Run consumes until ctx ends and returns nil then. A stopped consumer
// commits nothing more: its last batch is read again by the group and
// deduplicated by its token.
func (c *KafkaConsumer) Run(ctx context.Context) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:  c.cfg.Kafka.Brokers,
		GroupID:  c.cfg.Kafka.GroupID,
		Topic:    c.cfg.Kafka.Topic,
		MinBytes: 1,
		MaxBytes: kafkaBatchBytes,
		MaxWait:  250 * time.Millisecond,
		// kafka-go's default (10 s) stalls a reader that caught up with a
		// partition being written (seen against kfake: ~30 s pauses).
		ReadBatchTimeout: 2 * time.Second,
		QueueCapacity:    min(c.cfg.Sink.BatchRows, 10_000),
		CommitInterval:   0, // synchronous, explicit commits only
		StartOffset:      kafka.FirstOffset,
	})
	defer r.Close()
	dlq := newWriter(c.cfg.Kafka, c.cfg.Kafka.DLQTopic, 1000)
	defer dlq.Close()
	for ctx.Err() == nil {
		batch, err := c.collect(ctx, r)
		if err != nil || len(batch) == 0 {
			if ctx.Err() == nil {
				c.log.Warn("ingest: Kafka fetch failed; retrying", "err", err)
				sleepCtx(ctx, fetchRetryWait)
			}
			continue
		}
		c.m.Lag.WithLabelValues(c.cfg.Kafka.GroupID).Set(float64(r.Stats().Lag))
		msgs := make([]Message, len(batch))
		for i, km := range batch {
			msgs[i] = fromKafka(km)
		}
		if err := c.sink.Commit(ctx, msgs, kafkaToken(batch), kafkaDLQ{w: dlq}, nil); err != nil || ctx.Err() != nil {
			break
		}
		if err := r.CommitMessages(ctx, batch...); err != nil {
			c.log.Warn("ingest: offset commit failed; the batch will be read again and deduplicated", "err", err)
		}
	}
	return nil
}

// collect blocks for the first message, then gathers more until BatchRows
// or BatchWait after the first.
func (c *KafkaConsumer) collect(ctx context.Context, r *kafka.Reader) ([]kafka.Message, error) {
	first, err := r.FetchMessage(ctx)
	if err != nil {
		return nil, err
	}
	batch := []kafka.Message{first}
	wctx, cancel := context.WithTimeout(ctx, c.cfg.Sink.BatchWait)
	defer cancel()
	for len(batch) < c.cfg.Sink.BatchRows {
		m, err := r.FetchMessage(wctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				break
			}
			return batch, nil
		}
		batch = append(batch, m)
	}
	return batch, nil
}

// fromKafka restores the firehose message the bridge wrote.
func fromKafka(km kafka.Message) Message {
	m := Message{
		ID:         km.Topic + "/" + strconv.Itoa(km.Partition) + "/" + strconv.FormatInt(km.Offset, 10),
		Data:       km.Value,
		ReceivedAt: km.Time,
	}
	for _, h := range km.Headers {
		switch h.Key {
		case kafkaHeaderSubject:
			m.Subject = string(h.Value)
		case kafkaHeaderReceivedAt:
			if ms, err := strconv.ParseInt(string(h.Value), 10, 64); err == nil {
				m.ReceivedAt = time.UnixMilli(ms).UTC()
			}
		}
	}
	return m
}

// kafkaToken is topic/partition:first-last for each partition of the
// batch, in partition order.
func kafkaToken(batch []kafka.Message) string {
	type span struct{ first, last int64 }
	spans := map[int]*span{}
	for _, m := range batch {
		s := spans[m.Partition]
		if s == nil {
			spans[m.Partition] = &span{m.Offset, m.Offset}
			continue
		}
		s.first, s.last = min(s.first, m.Offset), max(s.last, m.Offset)
	}
	parts := make([]int, 0, len(spans))
	for p := range spans {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	var b strings.Builder
	b.WriteString("kafka/" + batch[0].Topic + "/")
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d:%d-%d", p, spans[p].first, spans[p].last)
	}
	return b.String()
}
