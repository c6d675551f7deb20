// Package live multiplexes live (subscription) data: every subscriber of the
// same Key shares one refresher, which recomputes the value when the ingest
// pipeline reports new events for the key's tenant (or on a fallback
// interval) and pushes it only when it changed. A slow subscriber always
// gets the latest value, never a growing queue.
package live

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/learnhub/analytics-service/ingest"
)

// DefaultInterval is the fallback refresh when no ingest notice arrives.
const DefaultInterval = 30 * time.Second

// Key identifies one shared value. It includes everything the value depends
// on: the tenant and the caller's role (so callers who may see different
// data never share), the resource, and the normalised arguments.
type Key struct {
	Tenant   string
	Role     string
	Resource string // e.g. "dashboard:<id>" or "widget:<dashboard>/<widget>"
	Args     string // normalised arguments (filters, time range), e.g. JSON
}

// Compute produces the current value for a key and its fingerprint: the
// bytes that decide whether the value changed (leave out timestamps such as
// "computed at"; nil means the value's JSON). It runs with the context of
// the key's first subscriber, detached from that subscriber's cancellation.
type Compute func(ctx context.Context) (value any, fingerprint []byte, err error)

// Config tunes a Hub.
type Config struct {
	// Conn receives ingest notices; nil means interval refreshes only.
	Conn *nats.Conn
	// Interval is the fallback refresh; zero means DefaultInterval.
	Interval time.Duration
	// Log receives refresh failures; nil means slog.Default().
	Log *slog.Logger
}

// Hub owns the refreshers of one process.
type Hub struct {
	cfg     Config
	mu      sync.Mutex
	groups  map[Key]*group
	tenants map[string]*tenantWatch
}

// tenantWatch is one NATS subscription shared by a tenant's groups.
type tenantWatch struct {
	sub    *nats.Subscription
	groups int
}

// group is the refresher of one key and its subscribers.
type group struct {
	key     Key
	compute Compute
	trigger chan struct{} // buffered 1: bursts coalesce
	cancel  context.CancelFunc
	subs    map[chan any]struct{}
	last    []byte
	lastVal any
}

// NewHub returns a Hub.
func NewHub(cfg Config) *Hub {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Hub{cfg: cfg, groups: map[Key]*group{}, tenants: map[string]*tenantWatch{}}
}

// Subscribe returns a channel of values for key: the current value first,
// then each changed value. The channel closes when ctx ends; the refresher
// stops when its last subscriber leaves. compute is used only by the first
// subscriber of a key.
func (h *Hub) Subscribe(ctx context.Context, key Key, compute Compute) (<-chan any, error) {
	out := make(chan any, 1)
	h.mu.Lock()
	g, ok := h.groups[key]
	if !ok {
		gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		g = &group{key: key, compute: compute, trigger: make(chan struct{}, 1), cancel: cancel, subs: map[chan any]struct{}{}}
		h.groups[key] = g
		if err := h.watchTenant(key.Tenant); err != nil {
			delete(h.groups, key)
			h.mu.Unlock()
			cancel()
			return nil, err
		}
		go h.refresh(gctx, g)
		g.trigger <- struct{}{}
	} else if g.lastVal != nil {
		out <- g.lastVal // a late subscriber starts from the current value
	}
	g.subs[out] = struct{}{}
	h.mu.Unlock()

	go func() {
		<-ctx.Done()
		h.leave(g, out)
	}()
	return out, nil
}

// Groups is the number of live refreshers (for tests and metrics).
func (h *Hub) Groups() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.groups)
}

// watchTenant subscribes to the tenant's ingest notices once; caller holds mu.
func (h *Hub) watchTenant(tenant string) error {
	if w, ok := h.tenants[tenant]; ok {
		w.groups++
		return nil
	}
	w := &tenantWatch{groups: 1}
	if h.cfg.Conn != nil {
		sub, err := h.cfg.Conn.Subscribe(ingest.NoticeSubject(tenant), func(*nats.Msg) { h.Poke(tenant) })
		if err != nil {
			return err
		}
		w.sub = sub
	}
	h.tenants[tenant] = w
	return nil
}

// Poke asks every refresher of tenant to recompute (non-blocking), as an
// ingest notice does.
func (h *Hub) Poke(tenant string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, g := range h.groups {
		if k.Tenant == tenant {
			select {
			case g.trigger <- struct{}{}:
			default:
			}
		}
	}
}

// leave removes a subscriber; the last one stops the refresher.
func (h *Hub) leave(g *group, out chan any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(g.subs, out)
	close(out)
	if len(g.subs) > 0 {
		return
	}
	g.cancel()
	delete(h.groups, g.key)
	w := h.tenants[g.key.Tenant]
	if w.groups--; w.groups == 0 {
		if w.sub != nil {
			_ = w.sub.Unsubscribe()
		}
		delete(h.tenants, g.key.Tenant)
	}
}

// refresh recomputes on triggers and ticks until the group ends.
func (h *Hub) refresh(ctx context.Context, g *group) {
	ticker := time.NewTicker(h.cfg.Interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.trigger:
		case <-ticker.C:
		}
		v, fp, err := g.compute(ctx)
		if err == nil && fp == nil {
			fp, err = json.Marshal(v)
		}
		if err != nil {
			if ctx.Err() == nil {
				h.cfg.Log.Warn("live refresh failed", "tenant", g.key.Tenant, "resource", g.key.Resource, "err", err)
			}
			continue
		}
		h.publish(g, v, fp)
	}
}

// publish fans a changed value out; a full subscriber buffer is replaced by
// the newer value.
func (h *Hub) publish(g *group, v any, raw []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if g.last != nil && bytes.Equal(g.last, raw) {
		return
	}
	g.last, g.lastVal = raw, v
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
