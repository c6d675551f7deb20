// Package watch follows a stored record for a subscription by polling it:
// the record is sent now and again whenever its stored version changes,
// until it reaches a final state or the subscriber leaves. Polling reads one
// row by key, works the same on every deployment and needs no bus traffic;
// exports (exportProgress) and insights (insightProgress) follow their jobs
// with it.
package watch

import (
	"context"
	"time"
)

// Record is what Follow needs of a stored record.
type Record interface {
	// StoredVersion changes with every write of the record.
	StoredVersion() uint64
	// Final reports that the record will not change any more.
	Final() bool
}

// Follow sends first, then get's answer whenever its version differs from
// the last one sent, polling every interval; it closes the channel after a
// final record, when ctx ends, or when get fails (the record is gone).
func Follow[T Record](ctx context.Context, interval time.Duration, first T, get func(context.Context) (T, error)) <-chan T {
	out := make(chan T, 1)
	go func() {
		defer close(out)
		t := time.NewTicker(interval)
		defer t.Stop()
		cur := first
		for {
			select {
			case out <- cur:
			case <-ctx.Done():
				return
			}
			if cur.Final() {
				return
			}
			last := cur.StoredVersion()
			for cur.StoredVersion() == last {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				next, err := get(ctx)
				if err != nil {
					return
				}
				cur = next
			}
		}
	}()
	return out
}
