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
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// kafkaFetchMaxWait is how long the broker may hold a fetch of a caught-up
// partition waiting for new records.
const kafkaFetchMaxWait = 250 * time.Millisecond

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
//
// It consumes with franz-go's kgo client, not the kafka-go consumer group
// the issue named (the producers stay on segmentio/kafka-go): kgo polls
// whole batches, commits exactly the records of an inserted batch, and
// BlockRebalanceOnPoll holds a rebalance off between insert and commit. The
// stalls once blamed on kafka-go's Reader came from the JetStream fetch;
// docs/ARCHITECTURE.md (Ingest) has the measured comparison.
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

// Run consumes until ctx ends and returns nil then; it fails early only
// when the client cannot be configured. A stopped consumer commits nothing
// more: its last batch is read again by the group and deduplicated by its
// token. Rebalances wait while a batch is between poll and commit
// (BlockRebalanceOnPoll), so a batch's offsets are committed by the member
// that inserted it.
func (c *KafkaConsumer) Run(ctx context.Context) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(c.cfg.Kafka.Brokers...),
		kgo.ConsumerGroup(c.cfg.Kafka.GroupID),
		kgo.ConsumeTopics(c.cfg.Kafka.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(), // offsets are committed only after the insert
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchMaxWait(kafkaFetchMaxWait),
		kgo.FetchMaxPartitionBytes(kafkaFetchPartitionBytes),
	)
	if err != nil {
		return errs.Wrap("ingest.KafkaConsumer", errs.KindInvalid, err, "cannot configure the Kafka consumer")
	}
	defer cl.CloseAllowingRebalance()
	dlq := newWriter(c.cfg.Kafka, c.cfg.Kafka.DLQTopic, 1000)
	defer dlq.Close()
	lag := map[int32]int64{}
	buf := collectBuffers{subjects: map[string]string{}}
	for ctx.Err() == nil {
		batch, decoded, err := c.collect(ctx, cl, lag, &buf)
		if err != nil || len(batch) == 0 {
			cl.AllowRebalance()
			if ctx.Err() == nil {
				c.log.Warn("ingest: Kafka fetch failed; retrying", "err", err)
				sleepCtx(ctx, fetchRetryWait)
			}
			continue
		}
		var total int64
		for _, l := range lag {
			total += l
		}
		c.m.Lag.WithLabelValues(c.cfg.Kafka.GroupID).Set(float64(total))
		if err := c.sink.commit(ctx, decoded, kafkaToken(batch), kafkaDLQ{w: dlq}, nil); err != nil || ctx.Err() != nil {
			break
		}
		if err := cl.CommitRecords(ctx, batch...); err != nil {
			c.log.Warn("ingest: offset commit failed; the batch will be read again and deduplicated", "err", err)
		}
		cl.AllowRebalance()
	}
	return nil
}

// collect blocks for the first records, then polls more until BatchRows
// or BatchWait after the first. Each poll is decoded as it arrives, so
// only the last poll's decoding is left between the batch's end and its
// insert. lag is updated per partition from the fetches' high watermarks.
func (c *KafkaConsumer) collect(ctx context.Context, cl *kgo.Client, lag map[int32]int64, buf *collectBuffers) ([]*kgo.Record, decodedBatch, error) {
	// The previous batch is committed: drop its references while this one
	// waits for records.
	clear(buf.records)
	clear(buf.msgs)
	clear(buf.valid)
	batch, msgs := buf.records[:0], buf.msgs[:0]
	d := decodedBatch{valid: buf.valid[:0]}
	defer func() { buf.records, buf.msgs, buf.valid = batch, msgs, d.valid }()
	poll := func(ctx context.Context) error {
		fs := cl.PollRecords(ctx, c.cfg.Sink.BatchRows-len(batch))
		var first error
		fs.EachError(func(_ string, _ int32, err error) {
			if first == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				first = err
			}
		})
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if n := len(p.Records); n > 0 {
				lag[p.Partition] = max(p.HighWatermark-p.Records[n-1].Offset-1, 0)
			}
			batch = append(batch, p.Records...)
			msgs = msgs[:0]
			for _, r := range p.Records {
				msgs = append(msgs, fromKafka(r, buf.subjects))
			}
			c.sink.decodeInto(&d, msgs)
		})
		return first
	}
	for len(batch) == 0 && ctx.Err() == nil {
		if err := poll(ctx); err != nil {
			return batch, d, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, c.cfg.Sink.BatchWait)
	defer cancel()
	for len(batch) < c.cfg.Sink.BatchRows && wctx.Err() == nil {
		if err := poll(wctx); err != nil {
			return batch, d, nil
		}
	}
	return batch, d, nil
}

// collectBuffers are collect's slices, reused from one batch to the next
// (a batch is committed before the next is collected): growing fresh ones
// to BatchRows records every batch was about 8% of the Kafka path's CPU.
type collectBuffers struct {
	records  []*kgo.Record
	msgs     []Message
	valid    []pending
	subjects map[string]string
}

// fromKafka restores the firehose message the bridge wrote. subjects
// interns the subject strings: a batch has a few subjects (one per tenant
// and event type) and tens of thousands of records.
func fromKafka(r *kgo.Record, subjects map[string]string) Message {
	m := Message{Data: r.Value, ReceivedAt: r.Timestamp, log: r.Topic, partition: r.Partition, offset: r.Offset}
	for _, h := range r.Headers {
		switch h.Key {
		case kafkaHeaderSubject:
			s, ok := subjects[string(h.Value)]
			if !ok {
				if len(subjects) >= maxInternedSubjects {
					clear(subjects)
				}
				s = string(h.Value)
				subjects[s] = s
			}
			m.Subject = s
		case kafkaHeaderReceivedAt:
			if ms, err := strconv.ParseInt(string(h.Value), 10, 64); err == nil {
				m.ReceivedAt = time.UnixMilli(ms).UTC()
			}
		case traceparentHeader:
			m.Trace = string(h.Value)
		}
	}
	return m
}

// maxInternedSubjects bounds fromKafka's subject table.
const maxInternedSubjects = 4096

// kafkaToken is topic/partition:first-last for each partition of the
// batch, in partition order.
func kafkaToken(batch []*kgo.Record) string {
	type span struct{ first, last int64 }
	spans := map[int32]*span{}
	for _, r := range batch {
		s := spans[r.Partition]
		if s == nil {
			spans[r.Partition] = &span{r.Offset, r.Offset}
			continue
		}
		s.first, s.last = min(s.first, r.Offset), max(s.last, r.Offset)
	}
	parts := make([]int32, 0, len(spans))
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
