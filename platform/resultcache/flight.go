package resultcache

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// flight is one computation that identical concurrent requests share.
type flight struct {
	ctx     context.Context
	cancel  context.CancelFunc
	waiters int // callers still waiting; guarded by the Cache's mu
	// superseded is set (under the Cache's mu) when a Refresh of the same
	// key stored an answer while this flight ran: the flight's answer,
	// from data read earlier, is then returned to its waiters but not stored.
	superseded bool
	done       chan struct{}
	val        any
	err        error
	// owner is the Waits of the caller that started the computation;
	// blocked those of the callers waiting for it and not yet resumed
	// (guarded by the Cache's mu).
	owner   Waits
	blocked []Waits
}

// newFlight starts a flight for its first caller: the computation keeps
// ctx's values but not its cancellation.
func newFlight(ctx context.Context) *flight {
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	return &flight{ctx: fctx, cancel: cancel, waiters: 1, done: make(chan struct{})}
}

// wait returns the flight's result (hit when the caller shared another's
// computation), or ctx's error when the caller leaves
// first; the last caller to leave cancels the computation. A caller that
// leaves resumes its own Waits (the computation resumes the others).
func (f *flight) wait(ctx context.Context, mu *sync.Mutex, shared bool, w Waits) (any, bool, error) {
	select {
	case <-f.done:
		return f.val, shared, f.err
	case <-ctx.Done():
		mu.Lock()
		f.waiters--
		last := f.waiters == 0
		if i := slices.Index(f.blocked, w); i >= 0 {
			f.blocked = slices.Delete(f.blocked, i, i+1)
			w.Resumed()
		}
		mu.Unlock()
		if last {
			f.cancel()
		}
		return nil, false, ctx.Err()
	}
}

// safeCompute turns a panic in compute into an error, so waiters are
// released (the HTTP recovery middleware cannot see this goroutine).
func safeCompute(ctx context.Context, compute func(context.Context) (any, error)) (val any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("resultcache: computation panicked: %v", p)
		}
	}()
	return compute(ctx)
}
