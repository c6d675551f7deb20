package ingest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/telemetry"
	"github.com/learnhub/analytics-service/store"
)

// Defaults for the zero values of SinkConfig.
const (
	DefaultBatchRows = 50_000
	DefaultBatchWait = time.Second
)

// SinkConfig shapes the ClickHouse batch sink.
type SinkConfig struct {
	// BatchRows ends a batch at this many messages; zero means
	// DefaultBatchRows (50 000).
	BatchRows int
	// BatchWait ends a batch this long after it started collecting, however
	// small; zero means DefaultBatchWait (1 s). It bounds the latency added
	// by batching.
	BatchWait time.Duration
	// Retry is the schedule for ClickHouse and dead-letter failures; the
	// zero value means DefaultRetryMin doubling up to DefaultRetryMax.
	Retry Backoff
	// Decoder sets the envelope rules (size, time window).
	Decoder DecoderConfig
	// Tracing records a span per stored batch, continuing the trace of the
	// first event that carried one and linking the others (nil: none).
	Tracing *telemetry.Tracing
}

// Sink validates batches of raw messages and stores them: valid events into
// the events table with the batch's dedup token, refused ones to the dead
// letter queue and the dead_letters table. Commit returns only when all of
// it is durable (retrying with backoff for as long as it takes), so a source
// that acknowledges after Commit never loses an event, and a source that
// waits on Commit stops fetching: the backpressure.
type Sink struct {
	db  *store.DB
	nc  *nats.Conn
	dec *Decoder
	cfg SinkConfig
	m   *Metrics
	log *slog.Logger
}

// pending is a valid event with the message it came from.
type pending struct {
	ev  Event
	msg Message
}

// decodedBatch is a batch split by the envelope rules.
type decodedBatch struct {
	// valid are the events to insert, in source order.
	valid []pending
	// letters are the envelopes refused before reaching ClickHouse.
	letters []DeadLetter
}

// NewSink returns a Sink writing to db. nc (may be nil) carries the commit
// notices; m may be nil (instruments kept unregistered) and log may be nil
// (discarded).
func NewSink(db *store.DB, nc *nats.Conn, m *Metrics, log *slog.Logger, cfg SinkConfig) *Sink {
	if cfg.BatchRows <= 0 {
		cfg.BatchRows = DefaultBatchRows
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = DefaultBatchWait
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Sink{db: db, nc: nc, dec: NewDecoder(cfg.Decoder), cfg: cfg, m: m, log: log}
}

// Config is the sink's configuration with defaults applied.
func (s *Sink) Config() SinkConfig { return s.cfg }

// Commit stores one batch. token must be a deterministic function of the
// batch's source positions (the same messages give the same token, other
// messages another), so a batch redelivered after a crash between insert
// and acknowledgement is not inserted twice. keepAlive (may be nil) is
// called on every failed attempt so the source can extend its
// acknowledgement deadline. Messages on dead-letter subjects are skipped.
// The only error is ctx's: nothing is given up on.
func (s *Sink) Commit(ctx context.Context, msgs []Message, token string, dlq DeadLetterQueue, keepAlive func()) error {
	return s.commit(ctx, s.decode(msgs, nil), token, dlq, keepAlive)
}

// decode checks a batch against the envelope rules. It touches nothing
// outside the sink, so a pipelined source runs it for the next batch while
// the current one is being inserted. The valid events go into spare when
// it is large enough (a batch's slice the caller has finished with).
func (s *Sink) decode(msgs []Message, spare []pending) decodedBatch {
	if cap(spare) < len(msgs) {
		spare = make([]pending, 0, len(msgs))
	}
	d := decodedBatch{valid: spare[:0]}
	s.decodeInto(&d, msgs)
	return d
}

// decodeInto is decode appending to d, for a source that decodes its
// batch piece by piece as the pieces arrive.
func (s *Sink) decodeInto(d *decodedBatch, msgs []Message) {
	for _, m := range msgs {
		if strings.HasPrefix(m.Subject, DLQSubjectPrefix) {
			continue
		}
		ev, rej := s.dec.DecodeMessage(m.Subject, m.Data, m.ReceivedAt)
		if rej != nil {
			d.letters = append(d.letters, newDeadLetter(m, rej))
			continue
		}
		d.valid = append(d.valid, pending{ev: ev, msg: m})
	}
}

// commit is Commit of a batch already decoded.
func (s *Sink) commit(ctx context.Context, d decodedBatch, token string, dlq DeadLetterQueue, keepAlive func()) error {
	ctx, end := s.traceBatch(ctx, d.valid)
	refused, err := s.store(ctx, d.valid, token, keepAlive)
	end(err)
	if err != nil {
		return err
	}
	letters := append(d.letters, refused...)
	if err := s.deadLetters(ctx, letters, token, dlq, keepAlive); err != nil {
		return err
	}
	stored := storedOnly(d.valid, refused)
	done := time.Now()
	for i := range stored {
		s.m.EndToEndSeconds.Observe(done.Sub(stored[i].msg.ReceivedAt).Seconds())
	}
	s.m.BatchRows.Observe(float64(len(stored)))
	s.m.Events.Add(float64(len(stored)))
	if err := publishNotices(ctx, s.cfg.Tracing, s.nc, stored); err != nil {
		s.log.Warn("ingest: commit notice not published", "err", err)
	}
	return nil
}

// storedOnly is valid without the events ClickHouse refused (dead letters
// now), so the counters and notices count what the table holds. valid is
// returned as it is in the usual case of no refusal.
func storedOnly(valid []pending, refused []DeadLetter) []pending {
	if len(refused) == 0 {
		return valid
	}
	gone := make(map[string]bool, len(refused))
	for _, dl := range refused {
		gone[dl.SourceID] = true
	}
	out := make([]pending, 0, len(valid)-len(refused))
	for _, p := range valid {
		if !gone[p.msg.ID()] {
			out = append(out, p)
		}
	}
	return out
}

// store inserts the events, retrying transient failures. When ClickHouse
// refuses the data itself, the batch is split in halves (with derived
// tokens) until the refused rows are isolated; those come back as dead
// letters instead of blocking the firehose.
func (s *Sink) store(ctx context.Context, items []pending, token string, keepAlive func()) ([]DeadLetter, error) {
	if len(items) == 0 {
		return nil, nil
	}
	var dataErr error
	err := s.cfg.Retry.retry(ctx, func(ctx context.Context) error {
		err := s.insert(ctx, items, token)
		if err != nil && refusedData(err) {
			dataErr = err
			return nil
		}
		return err
	}, s.onFail("insert", keepAlive))
	if err != nil || dataErr == nil {
		return nil, err
	}
	if len(items) == 1 {
		var ex *store.Exception
		name := "refused"
		if errors.As(dataErr, &ex) && ex.Name != "" {
			name = ex.Name
		}
		s.log.Warn("ingest: ClickHouse refused an event", "source", items[0].msg.ID(), "err", dataErr)
		return []DeadLetter{newDeadLetter(items[0].msg, reject(ReasonRejectedByStore, "",
			"ClickHouse refused the event (%s); check properties for values it cannot store", name))}, nil
	}
	mid := len(items) / 2
	a, err := s.store(ctx, items[:mid], token+"/a", keepAlive)
	if err != nil {
		return nil, err
	}
	b, err := s.store(ctx, items[mid:], token+"/b", keepAlive)
	return append(a, b...), err
}

// insert writes the events once. The rows share one backing array: one
// allocation per batch instead of one per event.
func (s *Sink) insert(ctx context.Context, items []pending, token string) error {
	vals := make([]any, 0, len(items)*len(eventColumns()))
	rows := make([][]any, len(items))
	for i := range items {
		from := len(vals)
		vals = items[i].ev.appendRow(vals)
		rows[i] = vals[from:len(vals):len(vals)]
	}
	start := time.Now()
	err := s.db.Insert(ctx, store.Insert{Table: EventsTable, Columns: eventColumns(), Rows: rows, DedupToken: token})
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	s.m.InsertSeconds.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	return err
}

// deadLetters publishes and records refused envelopes, retrying each step.
func (s *Sink) deadLetters(ctx context.Context, letters []DeadLetter, token string, dlq DeadLetterQueue, keepAlive func()) error {
	return storeDeadLetters(ctx, s.db, dlq, s.m, letters, token+"/dlq", func(ctx context.Context, stage string, op func(context.Context) error) error {
		return s.cfg.Retry.retry(ctx, op, s.onFail(stage, keepAlive))
	})
}

// onFail counts and logs a failed attempt and keeps the batch alive.
func (s *Sink) onFail(stage string, keepAlive func()) func(error, int) {
	return func(err error, attempt int) {
		s.m.Retries.WithLabelValues(stage).Inc()
		s.log.Warn("ingest: attempt failed; retrying", "stage", stage, "attempt", attempt, "err", err)
		if keepAlive != nil {
			keepAlive()
		}
	}
}

// refusedData reports whether ClickHouse refused the rows themselves (a
// retry cannot help), as opposed to being unavailable.
func refusedData(err error) bool {
	var ex *store.Exception
	if !errors.As(err, &ex) || errs.Is(err, errs.KindUnavailable) {
		return false
	}
	switch {
	case strings.HasPrefix(ex.Name, "CANNOT_PARSE"), strings.HasPrefix(ex.Name, "INCORRECT_"),
		ex.Name == "TYPE_MISMATCH", ex.Name == "TOO_LARGE_STRING_SIZE", ex.Name == "ARGUMENT_OUT_OF_BOUND",
		ex.Name == "CANNOT_READ_ALL_DATA", ex.Name == "NUMBER_OF_COLUMNS_DOESNT_MATCH":
		return true
	}
	return false
}
