package ingest

import (
	"context"
	"math/rand/v2"
	"time"
)

// Defaults of the retry schedule.
const (
	DefaultRetryMin = 100 * time.Millisecond
	DefaultRetryMax = 10 * time.Second
)

// Backoff is an exponential retry schedule with jitter.
type Backoff struct {
	// Min is the first wait; zero means DefaultRetryMin (100 ms).
	Min time.Duration
	// Max caps the wait; zero means DefaultRetryMax (10 s).
	Max time.Duration
}

// retry runs op until it succeeds or ctx ends, waiting longer after each
// failure. onFail (may be nil) sees every failure before the wait. It
// returns nil or ctx's error: a failure is never given up on.
func (b Backoff) retry(ctx context.Context, op func(context.Context) error, onFail func(err error, attempt int)) error {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = DefaultRetryMin
	}
	if hi <= 0 {
		hi = DefaultRetryMax
	}
	wait := lo
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if onFail != nil {
			onFail(err, attempt)
		}
		// ±20 % jitter so consumers that failed together do not retry together.
		d := time.Duration(float64(wait) * (0.8 + 0.4*rand.Float64()))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, hi)
	}
}
