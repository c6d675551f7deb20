package live

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// group is the refresher of one key and its subscribers.
type group struct {
	key     Key
	compute Compute
	trigger chan struct{} // buffered 1: notices arriving while one is pending coalesce
	cancel  context.CancelFunc

	traceMu sync.Mutex        // guards trace
	trace   trace.SpanContext // of the latest notice not yet refreshed; the next refresh continues it

	mu      sync.Mutex // guards the fields below
	subs    map[chan any]struct{}
	last    []byte // fingerprint of lastVal; nil before the first success
	lastVal any
}

func newGroup(key Key, compute Compute, cancel context.CancelFunc) *group {
	g := &group{key: key, compute: compute, trigger: make(chan struct{}, 1), cancel: cancel, subs: map[chan any]struct{}{}}
	g.poke() // the first subscriber's value
	return g
}

// poke asks for a refresh without blocking.
func (g *group) poke() {
	select {
	case g.trigger <- struct{}{}:
	default:
	}
}

// join adds a subscriber; a late one starts from the current value.
func (g *group) join(out chan any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.subs[out] = struct{}{}
	if g.last != nil {
		out <- g.lastVal
	}
}

// part removes a subscriber, closes its channel and returns how many remain.
func (g *group) part(out chan any) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.subs, out)
	close(out)
	return len(g.subs)
}

// refresh recomputes on pokes (no sooner than MinGap after the previous
// refresh) and after Interval without one, until the group ends.
func (h *Hub) refresh(ctx context.Context, g *group) {
	fallback := time.NewTimer(h.cfg.Interval)
	defer fallback.Stop()
	var done time.Time // end of the previous refresh
	for {
		select {
		case <-ctx.Done():
			return
		case <-fallback.C:
		case <-g.trigger:
			if wait := h.cfg.MinGap - time.Since(done); !done.IsZero() && wait > 0 {
				gap := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					gap.Stop()
					return
				case <-gap.C:
				}
				select { // a notice during the gap is covered by this refresh
				case <-g.trigger:
				default:
				}
			}
		}
		h.refreshOnce(ctx, g)
		done = time.Now()
		fallback.Reset(h.cfg.Interval)
	}
}

// refreshOnce computes the key's value and publishes it if it changed.
func (h *Hub) refreshOnce(ctx context.Context, g *group) {
	if h.cfg.Tracing != nil {
		g.traceMu.Lock()
		sc := g.trace
		g.trace = trace.SpanContext{}
		g.traceMu.Unlock()
		if sc.IsValid() {
			ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
		}
		var sp trace.Span
		ctx, sp = h.cfg.Tracing.Tracer("analytics/live").Start(ctx, "live refresh "+g.key.Resource,
			trace.WithAttributes(attribute.String("analytics.tenant", g.key.Tenant), attribute.String("analytics.live.resource", g.key.Resource)))
		defer sp.End()
	}
	v, fp, err := g.compute(refreshContext(ctx))
	if err == nil && fp == nil {
		fp, err = json.Marshal(v)
	}
	if err != nil {
		if ctx.Err() == nil {
			h.cfg.Log.Warn("live refresh failed", "tenant", g.key.Tenant, "resource", g.key.Resource, "err", err)
		}
		return
	}
	g.publish(v, fp)
}

// publish fans a changed value out; a full subscriber buffer has its stale
// value replaced by the newer one.
func (g *group) publish(v any, fp []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last != nil && bytes.Equal(g.last, fp) {
		return
	}
	g.last, g.lastVal = fp, v
	for ch := range g.subs {
		select {
		case ch <- v:
		default:
			select { // drop the stale value, keep the latest
			case <-ch:
			default:
			}
			ch <- v
		}
	}
}
