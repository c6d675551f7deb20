// Package resultcache keeps the answers of read queries in process memory,
// keyed by tenant, a normalised request and the tenant's data version, and
// lets identical concurrent requests share one computation (single-flight).
//
// The rule it keeps: an entry is never served after the data it was
// computed from changed. A key holds the tenant's data version as it was
// read BEFORE the computation started (Versions, advanced by the ingest
// commit notices every replica receives); an answer computed while a batch
// committed is stored under the old version, which no later request asks
// for. So a key does not move while nothing arrived, and a new event is
// never hidden behind an entry older than its notice. Relative windows must
// be resolved to fixed instants before they enter a key (see
// timerange.AlignRelative): the cache never resolves "now" itself.
//
// Each replica has its own Cache and Versions; they share nothing but the
// notices on NATS. Other domains adopt it with one call:
//
//	v, hit, err := resultcache.Do(ctx, c, tenant, "funnel", normalisedRequest, func(ctx context.Context) (*Result, error) { … })
//
// Values are shared between callers and must be treated as read-only.
package resultcache

import (
	"container/list"
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultMaxEntries = 4096
	DefaultMaxAge     = 10 * time.Minute
)

// Config configures a Cache.
type Config struct {
	// Versions names each tenant's data version; nil means a Versions
	// nothing advances (only MaxAge expires entries), which suits tests
	// and tools that write no data while they read.
	Versions *Versions
	// MaxEntries bounds the entries kept (least recently used go first);
	// zero means DefaultMaxEntries, negative disables the cache (Do
	// always computes, still single-flight).
	MaxEntries int
	// MaxAge bounds how long an entry is served even while its version is
	// current: changes no notice reports (the nightly rollup rebuild, a
	// lost notice on a NATS outage) show after at most this long. Zero
	// means DefaultMaxAge.
	MaxAge time.Duration
	// Now is the clock of MaxAge; nil means time.Now.
	Now func() time.Time
}

// Cache is a bounded LRU of query answers with single-flight. The zero
// value is not usable; call New. A nil *Cache computes every call.
type Cache struct {
	cfg Config

	mu      sync.Mutex
	ll      *list.List // front = most recently used; values are *entry
	entries map[string]*list.Element
	flights map[string]*flight
	stats   Stats
}

// Stats count what a Cache did, for tests and benchmarks.
type Stats struct {
	Hits     uint64 // answered from an entry
	Shared   uint64 // waited for an identical computation in flight
	Computes uint64 // ran the compute function
}

type entry struct {
	key string
	val any
	at  time.Time
}

// New returns a Cache configured by cfg.
func New(cfg Config) *Cache {
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Versions == nil {
		cfg.Versions = NewVersions()
	}
	return &Cache{cfg: cfg, ll: list.New(), entries: map[string]*list.Element{}, flights: map[string]*flight{}}
}

// Stats returns the counters so far.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Do returns the answer of compute for (tenant, kind, request): from an
// entry stored under the tenant's current data version, from an identical
// computation already in flight, or by running compute. hit reports that
// no compute ran for this caller. request must be JSON-encodable and hold
// everything the answer depends on besides the tenant and its data (the
// resolved window, the definition's version, the zone …). Errors are
// returned to everyone waiting on that computation and never stored.
//
// compute runs in a context that keeps the first caller's values (tenant,
// principal, request id) but is cancelled only when every caller waiting
// for it has gone, so one client hanging up does not fail the others.
func Do[T any](ctx context.Context, c *Cache, tenant, kind string, request any, compute func(context.Context) (T, error)) (v T, hit bool, err error) {
	return doKeyed(ctx, c, request, func(req []byte) string { return c.Key(tenant, kind, req) }, compute)
}

// DoBefore is Do for an answer that depends only on the tenant's events
// before the instant before (a window ending there): its entry is keyed by
// the version of those events (Versions.Before), so it stays while changes
// arrive that touch only later events. The caller must make the request's
// window end at or before before.
func DoBefore[T any](ctx context.Context, c *Cache, tenant, kind string, request any, before time.Time, compute func(context.Context) (T, error)) (v T, hit bool, err error) {
	return doKeyed(ctx, c, request, func(req []byte) string {
		return tenant + "\x00<" + strconv.FormatUint(c.cfg.Versions.Before(tenant, before), 10) + "\x00" + kind + "\x00" +
			before.UTC().Format(time.RFC3339Nano) + "\x00" + string(req)
	}, compute)
}

// doKeyed is Do under the key keyOf names for the encoded request.
func doKeyed[T any](ctx context.Context, c *Cache, request any, keyOf func(req []byte) string, compute func(context.Context) (T, error)) (v T, hit bool, err error) {
	if c == nil {
		v, err = compute(ctx)
		return v, false, err
	}
	req, err := json.Marshal(request)
	if err != nil {
		return v, false, err
	}
	val, hit, err := c.do(ctx, keyOf(req), func(ctx context.Context) (any, error) { return compute(ctx) })
	if err != nil {
		return v, hit, err
	}
	return val.(T), hit, nil
}

// Refresh computes the answer of (tenant, kind, request) now, without
// serving an entry or joining a computation in flight, and stores it for
// later Do calls. It is for a caller that knows the data changed before
// this replica's version may have moved: a live refresher is woken by the
// same commit notice that bumps the version, in no set order, so an entry
// or flight under the old version could still hide the new events. Like
// Do's, the answer is stored under the version read before the
// computation started, so it never outlives a later notice.
func Refresh[T any](ctx context.Context, c *Cache, tenant, kind string, request any, compute func(context.Context) (T, error)) (T, error) {
	if c == nil {
		return compute(ctx)
	}
	req, err := json.Marshal(request)
	if err != nil {
		var zero T
		return zero, err
	}
	key := c.Key(tenant, kind, req)
	c.mu.Lock()
	c.stats.Computes++
	c.mu.Unlock()
	v, err := compute(ctx)
	if err == nil {
		c.mu.Lock()
		c.store(key, v)
		if f, ok := c.flights[key]; ok {
			f.superseded = true // started before this refresh: its answer may be older
		}
		c.mu.Unlock()
	}
	return v, err
}

// Key is the entry name of a normalised request of tenant under the
// tenant's current data version. The tenant is always part of it, so no
// entry is ever shared across tenants.
func (c *Cache) Key(tenant, kind string, request []byte) string {
	return tenant + "\x00" + strconv.FormatUint(c.cfg.Versions.Current(tenant), 10) + "\x00" + kind + "\x00" + string(request)
}

func (c *Cache) do(ctx context.Context, key string, compute func(context.Context) (any, error)) (any, bool, error) {
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*entry)
		if c.cfg.Now().Sub(e.at) < c.cfg.MaxAge {
			c.ll.MoveToFront(el)
			c.stats.Hits++
			c.mu.Unlock()
			return e.val, true, nil
		}
		c.ll.Remove(el)
		delete(c.entries, key)
	}
	w := waitsFrom(ctx)
	f, shared := c.flights[key]
	if shared {
		c.stats.Shared++
		f.waiters++
	} else {
		c.stats.Computes++
		f = newFlight(ctx)
		c.flights[key] = f
		f.owner = w
		w.Started() // the computation's goroutine
		go c.run(key, f, compute)
	}
	w.Blocked()
	f.blocked = append(f.blocked, w)
	c.mu.Unlock()
	return f.wait(ctx, &c.mu, shared, w)
}

// run computes f's value, stores it on success and releases the waiters.
func (c *Cache) run(key string, f *flight, compute func(context.Context) (any, error)) {
	defer f.cancel()
	val, err := safeCompute(f.ctx, compute)
	c.mu.Lock()
	delete(c.flights, key)
	if err == nil && !f.superseded {
		c.store(key, val)
	}
	// Waiters resume before the computation ends: no instant where
	// neither counts as busy (see Waits).
	for _, w := range f.blocked {
		w.Resumed()
	}
	f.blocked = nil
	c.mu.Unlock()
	f.val, f.err = val, err
	close(f.done)
	f.owner.Ended()
}

// store keeps val under key (replacing an older entry) and evicts the least
// recently used entries beyond MaxEntries. The caller holds c.mu.
func (c *Cache) store(key string, val any) {
	if c.cfg.MaxEntries <= 0 {
		return
	}
	if el, ok := c.entries[key]; ok {
		c.ll.Remove(el)
	}
	c.entries[key] = c.ll.PushFront(&entry{key: key, val: val, at: c.cfg.Now()})
	for c.ll.Len() > c.cfg.MaxEntries {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.entries, old.Value.(*entry).key)
	}
}

// Sibling returns a new, empty Cache configured as c is (the same
// Versions, size and age bounds) for the answers of another layer, such as
// whole GraphQL responses, whose entries and statistics stay apart from
// c's. A nil c gives nil.
func (c *Cache) Sibling() *Cache {
	if c == nil {
		return nil
	}
	return New(c.cfg)
}
