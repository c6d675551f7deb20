// Package live multiplexes live (subscription) data: every subscriber of the
// same Key shares one refresher, which recomputes the value when the ingest
// pipeline reports new events for the key's tenant (or on a fallback
// interval) and pushes it only when it changed. A slow subscriber always
// gets the latest value, never a growing queue.
//
// Each API replica has its own Hub; every hub listens to the same core NATS
// notices, so two replicas each run one refresher per key their own clients
// watch, and nothing needs coordinating between them.
package live

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/telemetry"
)

// Defaults for the zero values of Config.
const (
	// DefaultInterval is the fallback refresh when no ingest notice arrives.
	DefaultInterval = 30 * time.Second
	// DefaultMinGap is the least time between the end of one refresh of a
	// key and the start of the next one that a notice triggers: a burst of
	// notices costs one refresh, and a firehose at most one per gap.
	DefaultMinGap = 500 * time.Millisecond
)

// Key identifies one shared value. It includes everything the value depends
// on: the tenant and the caller's role (so callers who may see different
// data never share), the resource, and the normalised arguments. Two
// subscribers with equal keys get the same values, computed once.
type Key struct {
	// Tenant is the verified tenant of the subscriber; Subscribe refuses a
	// key whose tenant is not the context's principal's.
	Tenant string
	// Role is the subscriber's role set, normalised (e.g. sorted JSON).
	// Dashboard data does not depend on the role today; it is in the key so
	// that the day it does, callers with different roles already never share.
	Role string
	// Resource is what is watched, e.g. "dashboard:<id>" or
	// "widget:<dashboard>/<widget>".
	Resource string
	// Args are the normalised arguments (filters sorted, time range spec),
	// e.g. JSON; equal arguments must give equal strings.
	Args string
}

// Compute produces the current value for a key and its fingerprint: the
// bytes that decide whether the value changed (leave out timestamps such as
// "computed at"; nil means the value's JSON). It runs in the refresher's
// scope (see Hub.Subscribe), never in a subscriber's request context.
type Compute func(ctx context.Context) (value any, fingerprint []byte, err error)

// Config tunes a Hub.
type Config struct {
	// Conn receives ingest notices (analytics.ingest.committed.<tenant>);
	// nil means interval refreshes only.
	Conn *nats.Conn
	// Interval is the fallback refresh, counted from the previous refresh;
	// zero means DefaultInterval.
	Interval time.Duration
	// MinGap spaces notice-triggered refreshes of one key (notices arriving
	// meanwhile coalesce into one refresh); zero means DefaultMinGap.
	MinGap time.Duration
	// Log receives refresh failures; nil means slog.Default().
	Log *slog.Logger
	// Tracing records a span per refresh, continuing the trace of the
	// ingest notice that triggered it (nil: none).
	Tracing *telemetry.Tracing
}

// Hub owns the refreshers of one process. It is safe for concurrent use.
type Hub struct {
	cfg     Config
	mu      sync.Mutex // guards groups and tenants; taken before a group's mu
	groups  map[Key]*group
	tenants map[string]*tenantWatch
}

// NewHub returns a Hub with no refreshers; they start with their first
// subscriber.
func NewHub(cfg Config) *Hub {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.MinGap <= 0 {
		cfg.MinGap = DefaultMinGap
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Hub{cfg: cfg, groups: map[Key]*group{}, tenants: map[string]*tenantWatch{}}
}

// Subscribe returns a channel of values for key: the current value first
// (immediately for a late subscriber, after the first compute otherwise),
// then each changed value. The channel has room for one value; a subscriber
// that does not keep up finds only the newest there. It closes when ctx
// ends, and the key's refresher and its tenant's NATS subscription stop
// when their last subscriber leaves.
//
// compute is used only when ctx's subscriber is the key's first: it then
// runs, on every refresh, with that subscriber's verified principal (see
// refresherContext for why that is safe for everyone who joins later). ctx
// must carry the principal of key.Tenant; anything else is refused.
func (h *Hub) Subscribe(ctx context.Context, key Key, compute Compute) (<-chan any, error) {
	const op = "live.Subscribe"
	if compute == nil {
		return nil, errs.E(op, errs.KindInternal, "")
	}
	base, err := refresherContext(ctx, key)
	if err != nil {
		return nil, err
	}
	out := make(chan any, 1)
	h.mu.Lock()
	g, ok := h.groups[key]
	if !ok {
		gctx, cancel := context.WithCancel(base)
		g = newGroup(key, compute, cancel)
		if err := h.watch(g); err != nil {
			h.mu.Unlock()
			cancel()
			return nil, errs.Wrap(op, errs.KindUnavailable, err, "live updates are unavailable")
		}
		h.groups[key] = g
		go h.refresh(gctx, g)
	}
	g.join(out)
	h.mu.Unlock()

	context.AfterFunc(ctx, func() { h.leave(g, out) })
	return out, nil
}

// Groups is the number of live refreshers (for tests and metrics).
func (h *Hub) Groups() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.groups)
}

// leave removes a subscriber and closes its channel; the last one stops the
// refresher and releases the tenant's notice subscription.
func (h *Hub) leave(g *group, out chan any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if g.part(out) > 0 {
		return
	}
	g.cancel()
	if h.groups[g.key] == g {
		delete(h.groups, g.key)
	}
	h.unwatch(g)
}
