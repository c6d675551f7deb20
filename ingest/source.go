package ingest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// minFetchHint is the smallest capacity fetchBatch gives a batch.
const minFetchHint = 256

// lagEvery is how often a consumer refreshes its lag gauge at most.
const lagEvery = time.Second

// jsBatch is one fetch from a durable JetStream consumer.
type jsBatch struct {
	raw  []jetstream.Msg
	msgs []Message
	seqs []uint64 // the hash's input, kept for reuse
	// firstSeq, lastSeq and hash describe the stream sequences, the base of
	// the batch's dedup token.
	firstSeq, lastSeq uint64
	hash              uint64
}

// fetchBatch pulls up to n messages, waiting at most wait. An empty batch
// is not an error. The batch reuses spare's slices (a batch its pipeline
// has finished with; may be nil) when they hold hint messages, else gets
// new ones for hint (the caller passes the previous fetch's size): growing
// them from a small guess to a busy fetch's 50 000 messages copied each
// slice some ten times, 2-3% of the direct pipeline's CPU, while sizing
// every fetch for n would allocate megabytes for each idle one. The wait is the pull request's own expiry (FetchMaxWait),
// not a context deadline: the server ends the request with a status message
// behind the last message it sent, so the client reads everything it was
// given. With a context deadline (FetchContext) the client stopped reading
// on its own clock, dropping messages still in flight; those stayed
// delivered-but-unacknowledged until AckWait (30 s) redelivered them, which
// stalled the pipeline whenever the client fell behind the server. ctx
// only stops a fetch from starting.
func fetchBatch(ctx context.Context, cons jetstream.Consumer, stream string, n, hint int, wait time.Duration, spare *jsBatch) (*jsBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mb, err := cons.Fetch(n, jetstream.FetchMaxWait(wait))
	if err != nil {
		return nil, err
	}
	hint = min(max(hint, minFetchHint), n)
	b := spare
	if b == nil || cap(b.raw) < hint || cap(b.msgs) < hint || cap(b.seqs) < hint {
		b = &jsBatch{raw: make([]jetstream.Msg, 0, hint), msgs: make([]Message, 0, hint), seqs: make([]uint64, 0, hint)}
	}
	seqs := b.seqs[:0]
	for m := range mb.Messages() {
		meta, err := m.Metadata()
		if err != nil {
			// Not a JetStream message: nothing to store or acknowledge.
			continue
		}
		seq := meta.Sequence.Stream
		if b.firstSeq == 0 || seq < b.firstSeq {
			b.firstSeq = seq
		}
		b.lastSeq = max(b.lastSeq, seq)
		seqs = append(seqs, seq)
		b.raw = append(b.raw, m)
		sm := streamMessage(stream, seq, m.Subject(), m.Data(), meta.Timestamp)
		if h := m.Headers(); h != nil {
			sm.Trace = http.Header(h).Get(traceparentHeader)
		}
		b.msgs = append(b.msgs, sm)
	}
	b.seqs = seqs
	b.hash = hashSequences(seqs)
	if err := mb.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) &&
		!errors.Is(err, jetstream.ErrNoMessages) && len(b.raw) == 0 {
		return nil, err
	}
	return b, nil
}

// hashSequences hashes a set of stream sequences: sorted first, so the
// same messages redelivered in another order (released ones behind those
// whose AckWait ran out) hash the same.
func hashSequences(seqs []uint64) uint64 {
	slices.Sort(seqs)
	h := fnv.New64a()
	var buf [8]byte
	for _, seq := range seqs {
		for i := range buf {
			buf[i] = byte(seq >> (8 * i))
		}
		h.Write(buf[:])
	}
	return h.Sum64()
}

// token is the batch's dedup token: the stream, the sequence range and a
// hash of every sequence (a redelivered batch with the same messages gets
// the same token; any other set of messages gets another).
func (b *jsBatch) token(stream string) string {
	return fmt.Sprintf("nats/%s/%d-%d/%s", stream, b.firstSeq, b.lastSeq, strconv.FormatUint(b.hash, 36))
}

// reset empties a finished batch for reuse, dropping its references to
// the messages.
func (b *jsBatch) reset() {
	clear(b.raw)
	clear(b.msgs)
	*b = jsBatch{raw: b.raw[:0], msgs: b.msgs[:0], seqs: b.seqs[:0]}
}

// ack acknowledges every message of the batch.
func (b *jsBatch) ack() error {
	var first error
	for _, m := range b.raw {
		if err := m.Ack(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// release hands the batch back to the server for immediate redelivery
// (a negative acknowledgement per message), for a batch dropped unstored
// at shutdown: the next consumer gets it at once, and whole, instead of
// message by message as each AckWait runs out.
func (b *jsBatch) release() {
	for _, m := range b.raw {
		_ = m.Nak()
	}
}

// keepAlive returns a function that tells the server the batch is still
// being worked on (resetting AckWait), at most once per interval.
func (b *jsBatch) keepAlive(interval time.Duration) func() {
	var mu sync.Mutex
	var last time.Time
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < interval {
			return
		}
		last = time.Now()
		b.inProgress()
	}
}

// inProgress resets the AckWait of every message of the batch.
func (b *jsBatch) inProgress() {
	for _, m := range b.raw {
		_ = m.InProgress()
	}
}

// lagGauge refreshes a consumer's lag gauge at most once per lagEvery.
type lagGauge struct {
	cons jetstream.Consumer
	m    *Metrics
	name string
	last time.Time
}

func (g *lagGauge) refresh(ctx context.Context) {
	if time.Since(g.last) < lagEvery {
		return
	}
	g.last = time.Now()
	ictx, cancel := context.WithTimeout(ctx, lagEvery)
	defer cancel()
	if info, err := g.cons.Info(ictx); err == nil {
		g.m.Lag.WithLabelValues(g.name).Set(float64(info.NumPending))
	}
}
