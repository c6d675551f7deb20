package ingest

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/store"
)

// fetchRetryWait is the pause after a failed fetch (NATS unreachable).
const fetchRetryWait = time.Second

// DirectConfig configures the embedded-mode pipeline JetStream → ClickHouse.
type DirectConfig struct {
	// Stream is the firehose stream, created or updated at Run.
	Stream StreamConfig
	// Consumer is the durable pull consumer; an empty Durable means
	// DefaultDirectDurable.
	Consumer ConsumerConfig
	// Sink shapes batches and the ClickHouse writes.
	Sink SinkConfig
}

// DirectConsumer feeds the events table straight from a durable JetStream
// consumer: fetch a batch, Sink.Commit it (token from the stream
// sequences), then acknowledge. Fetching and decoding the next batch
// overlaps the insert of the current one (see prefetcher). It never
// acknowledges an event ClickHouse does not have, and fetches nothing while
// a commit is retrying.
type DirectConsumer struct {
	b    *bus.Bus
	sink *Sink
	cfg  DirectConfig
	m    *Metrics
	log  *slog.Logger
}

// NewDirectConsumer builds the direct pipeline on b and db. m and log may be nil.
func NewDirectConsumer(b *bus.Bus, db *store.DB, m *Metrics, log *slog.Logger, cfg DirectConfig) *DirectConsumer {
	if m == nil {
		m = NewMetrics(nil)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	sink := NewSink(db, b.Conn(), m, log, cfg.Sink)
	cfg.Sink = sink.Config()
	cfg.Stream = cfg.Stream.withDefaults()
	cfg.Consumer = cfg.Consumer.withDefaults(DefaultDirectDurable, cfg.Sink.BatchRows)
	return &DirectConsumer{b: b, sink: sink, cfg: cfg, m: m, log: log}
}

// Run consumes until ctx ends and returns nil then; it fails early only
// when the stream or consumer cannot be set up. A stopped consumer
// acknowledges nothing more: a batch interrupted after its insert is
// redelivered and deduplicated by its token; batches it fetched and did not
// store are released for immediate redelivery.
func (c *DirectConsumer) Run(ctx context.Context) error {
	js := c.b.JetStream()
	s, err := EnsureStream(ctx, js, c.cfg.Stream)
	if err != nil {
		return err
	}
	cons, err := ensureConsumer(ctx, s, c.cfg.Consumer, DefaultDirectDurable, c.cfg.Sink.BatchRows)
	if err != nil {
		return err
	}
	dlq := jetStreamDLQ{js: js}
	g := &gate{}
	decoded := newSpares[[]pending]() // the valid slices of committed batches
	pf := &prefetcher[decodedBatch]{
		cons: cons, stream: c.cfg.Stream.Name, rows: c.cfg.Sink.BatchRows, wait: c.cfg.Sink.BatchWait,
		keepAlive: c.cfg.Consumer.AckWait / 3, gate: g, log: c.log,
		prepare: func(b *jsBatch) decodedBatch { return c.sink.decode(b.msgs, decoded.get()) },
		lag:     &lagGauge{cons: cons, m: c.m, name: c.cfg.Consumer.Durable},
		spare:   newSpares[*jsBatch](),
	}
	next, stop := pf.start(ctx)
	defer stop()
	for p := range next {
		keepAlive := p.batch.keepAlive(c.cfg.Consumer.AckWait / 3)
		failing := func() {
			g.close()
			keepAlive()
		}
		if err := c.sink.commit(ctx, p.prepared, p.batch.token(c.cfg.Stream.Name), dlq, failing); err != nil {
			p.batch.release() // stopped while retrying: redeliver it now
			break
		}
		g.open()
		if ctx.Err() != nil {
			break
		}
		if err := p.batch.ack(); err != nil {
			c.log.Warn("ingest: ack failed; the batch will be redelivered and deduplicated", "err", err)
		}
		clear(p.prepared.valid)
		decoded.put(p.prepared.valid[:0])
		pf.recycle(p.batch)
	}
	return nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
