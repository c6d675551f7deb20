package dashboards

import (
	"context"
	"sync"

	"github.com/learnhub/analytics-service/metrics"
)

// batch gathers the metric requests of one render and answers them with
// one Querier.QueryBatch, sent when every goroutine of the render is
// waiting: on the batch, on a computation another render started, or on
// its own children (it is the render's resultcache.Waits). A time window
// (the loader's Wait) split a render's widgets into several batches when
// the machine was loaded; counting busy goroutines does not depend on
// time, so a render costs the same statements under any load. A request
// made after the flush (a widget whose shared computation finished later)
// goes in the next batch.
type batch struct {
	load func(context.Context, []metrics.Request) ([]*metrics.Result, []error)

	mu      sync.Mutex
	busy    int // goroutines of the render that may still add a request
	pending []*batchCall
}

// batchCall is one request waiting for its batch.
type batchCall struct {
	ctx  context.Context
	req  metrics.Request
	res  *metrics.Result
	err  error
	done chan struct{}
}

// newBatch returns a batch for a render whose own goroutine counts as busy.
func newBatch(load func(context.Context, []metrics.Request) ([]*metrics.Result, []error)) *batch {
	return &batch{load: load, busy: 1}
}

// Load answers req with the render's next batch.
func (b *batch) Load(ctx context.Context, req metrics.Request) (*metrics.Result, error) {
	c := &batchCall{ctx: ctx, req: req, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	b.idle()
	b.mu.Unlock()
	<-c.done
	return c.res, c.err
}

// Started, Ended, Blocked and Resumed keep the count of busy goroutines
// (resultcache.Waits).
func (b *batch) Started() { b.mu.Lock(); b.busy++; b.mu.Unlock() }
func (b *batch) Ended()   { b.mu.Lock(); b.idle(); b.mu.Unlock() }
func (b *batch) Blocked() { b.mu.Lock(); b.idle(); b.mu.Unlock() }
func (b *batch) Resumed() { b.Started() }

// idle counts one goroutine less as busy and flushes the pending requests
// when none is left. The callers of the flushed requests count as busy
// again from the flush on. The caller holds b.mu.
func (b *batch) idle() {
	b.busy--
	if b.busy > 0 || len(b.pending) == 0 {
		return
	}
	calls := b.pending
	b.pending = nil
	b.busy += len(calls)
	go func() {
		reqs := make([]metrics.Request, len(calls))
		for i, c := range calls {
			reqs[i] = c.req
		}
		res, errs := b.load(calls[0].ctx, reqs)
		for i, c := range calls {
			c.res, c.err = res[i], errs[i]
			close(c.done)
		}
	}()
}
