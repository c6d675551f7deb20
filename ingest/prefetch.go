package ingest

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// prefetched is a JetStream batch fetched and prepared (decoded for the
// sink, turned into Kafka records for the bridge) ahead of its turn.
type prefetched[T any] struct {
	batch    *jsBatch
	prepared T
}

// prefetcher is the fetch side of a JetStream pipeline (the direct consumer
// and the Kafka bridge): it fetches and prepares the next batch while the
// current one is being stored downstream, so the two costs overlap instead
// of adding up. It runs at most one batch ahead (the hand-over channel is
// unbuffered; the consumer's MaxAckPending of at least two batches allows
// exactly that), keeps the batch it holds alive while it waits, and fetches
// nothing while downstream is failing (its gate is shut), so an outage
// leaves new events in the stream.
type prefetcher[T any] struct {
	cons      jetstream.Consumer
	stream    string
	rows      int
	wait      time.Duration
	keepAlive time.Duration
	// prepare turns a fetched batch into what the committer needs; it must
	// touch nothing outside the process, as its batch may be dropped unstored.
	prepare func(*jsBatch) T
	gate    *gate
	lag     *lagGauge
	log     *slog.Logger
	// spare holds batches the pipeline has finished with (see recycle).
	spare spares[*jsBatch]
}

// recycle gives a batch the pipeline has acknowledged back for a later
// fetch to fill.
func (p *prefetcher[T]) recycle(b *jsBatch) {
	b.reset()
	p.spare.put(b)
}

// spares is a free list of at most two buffers, one per batch a pipeline
// holds (one being stored, one prefetched): without them a busy pipeline
// allocated its batch-sized slices afresh for every batch, megabytes each,
// which the collector had to reclaim and the kernel to fault in again.
type spares[T any] struct{ ch chan T }

func newSpares[T any]() spares[T] { return spares[T]{ch: make(chan T, 2)} }

// get returns a spare, or the zero value when there is none.
func (s spares[T]) get() T {
	var v T
	select {
	case v = <-s.ch:
	default:
	}
	return v
}

// put keeps v unless two spares are kept already.
func (s spares[T]) put(v T) {
	select {
	case s.ch <- v:
	default:
	}
}

// start runs the prefetcher on its own goroutine until ctx ends or stop is
// called; stop waits for it to finish (releasing a batch it still holds).
func (p *prefetcher[T]) start(ctx context.Context) (next <-chan prefetched[T], stop func()) {
	pctx, cancel := context.WithCancel(ctx)
	out := make(chan prefetched[T])
	fetched := make(chan struct{})
	go func() {
		defer close(fetched)
		p.run(pctx, out)
	}()
	return out, func() {
		cancel()
		<-fetched
	}
}

// run fetches until ctx ends, then closes out. A batch it still holds then
// is neither committed nor acknowledged: it is released for redelivery.
func (p *prefetcher[T]) run(ctx context.Context, out chan<- prefetched[T]) {
	defer close(out)
	hint := 0 // the previous fetch's size
	for {
		if err := p.gate.wait(ctx); err != nil {
			return
		}
		batch, err := fetchBatch(ctx, p.cons, p.stream, p.rows, hint, p.wait, p.spare.get())
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.log.Warn("ingest: fetch failed; retrying", "consumer", p.lag.name, "err", err)
			sleepCtx(ctx, fetchRetryWait)
			continue
		}
		p.lag.refresh(ctx)
		hint = len(batch.raw)
		if len(batch.raw) == 0 {
			p.recycle(batch)
			continue
		}
		if !p.handOver(ctx, out, prefetched[T]{batch: batch, prepared: p.prepare(batch)}) {
			batch.release()
			return
		}
	}
}

// handOver waits until the committer takes next, telling the server every
// keepAlive interval that its events are still being worked on (the
// committer may be retrying the batch before it for longer than AckWait).
func (p *prefetcher[T]) handOver(ctx context.Context, out chan<- prefetched[T], next prefetched[T]) bool {
	tick := time.NewTicker(p.keepAlive)
	defer tick.Stop()
	for {
		select {
		case out <- next:
			return true
		case <-ctx.Done():
			return false
		case <-tick.C:
			next.batch.inProgress()
		}
	}
}

// gate stops the prefetcher while the sink is failing. It starts open.
type gate struct {
	mu     sync.Mutex
	shut   bool
	opened chan struct{} // closed when a shut gate opens again
}

// close shuts the gate; fetches already running finish.
func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.shut {
		g.shut = true
		g.opened = make(chan struct{})
	}
}

// open lets the prefetcher fetch again.
func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shut {
		g.shut = false
		close(g.opened)
	}
}

// wait returns when the gate is open, or ctx's error when ctx ends first.
func (g *gate) wait(ctx context.Context) error {
	g.mu.Lock()
	shut, opened := g.shut, g.opened
	g.mu.Unlock()
	if !shut {
		return ctx.Err()
	}
	select {
	case <-opened:
		return ctx.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}
