package resultcache

import (
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// maxSteps bounds the change history kept per tenant (see tenantSteps).
const maxSteps = 32

// Versions names each tenant's data version on this replica: a number that
// changes whenever a message says the tenant's events changed (an ingest
// commit notice, an erasure receipt) and otherwise stays put. Numbers come
// from one counter, so a version is never reused, and a tenant nobody has
// named yet shares the floor.
//
// A change may say the oldest event time it touched (BumpSince): then the
// version of the tenant's data before an instant (Before) moves only when
// a change reached back before it, so answers over closed days keep their
// key while today's events arrive, and a late event for a past day moves
// every key whose window reaches that day. A change that says nothing of
// time (Bump) moves every instant.
//
// Every replica subscribes to the same NATS subjects, so each learns of a
// change as soon as the writer announces it; the numbers differ between
// replicas, which is fine because each keeps its own entries. When the
// NATS connection is down a notice may be missed: Current and Before then
// return a fresh number on every call (nothing is served from the cache)
// and the first call after a reconnect moves every tenant to a new version.
type Versions struct {
	seq   atomic.Uint64
	floor atomic.Uint64 // every tenant's version is at least this

	mu       sync.RWMutex
	byTenant map[string]tenantSteps

	conn       *nats.Conn
	reconnects atomic.Uint64
}

// tenantSteps is a tenant's change history as steps (oldest event time,
// version), both ascending: the version of the data before instant t is the
// version of the last step whose time is before t, and the last step's
// version is the tenant's current one. A new change removes the steps at
// or after its own time (its version exceeds theirs for every instant they
// cover); beyond maxSteps the two oldest steps merge into one that moves
// earlier, which can only make a key change sooner, never later.
type tenantSteps []step

type step struct {
	since   time.Time // the oldest event time the change touched; zero: any time
	version uint64
}

// Change is what a message says changed: a tenant's events (all tenants
// when Tenant is empty) from Since on (any time when Since is zero).
type Change struct {
	Tenant string
	Since  time.Time
}

// NewVersions returns Versions with every tenant at the same version.
func NewVersions() *Versions {
	return &Versions{byTenant: map[string]tenantSteps{}}
}

// Current returns tenant's data version.
func (v *Versions) Current(tenant string) uint64 {
	if n, ok := v.healthy(); !ok {
		return n
	}
	v.mu.RLock()
	steps := v.byTenant[tenant]
	var t uint64
	if len(steps) > 0 {
		t = steps[len(steps)-1].version
	}
	v.mu.RUnlock()
	return max(t, v.floor.Load())
}

// Before returns the version of tenant's data with event times before at:
// it moves only with changes that reached back before at (or did not say
// how far back they reached).
func (v *Versions) Before(tenant string, at time.Time) uint64 {
	if n, ok := v.healthy(); !ok {
		return n
	}
	v.mu.RLock()
	steps := v.byTenant[tenant]
	i := sort.Search(len(steps), func(i int) bool { return !steps[i].since.Before(at) })
	var t uint64
	if i > 0 {
		t = steps[i-1].version
	}
	v.mu.RUnlock()
	return max(t, v.floor.Load())
}

// healthy reports whether the followed connection can be trusted; when it
// cannot, n is a fresh version.
func (v *Versions) healthy() (n uint64, ok bool) {
	if v.conn != nil {
		if !v.conn.IsConnected() {
			return v.seq.Add(1), false
		}
		if r := v.conn.Stats().Reconnects; r != v.reconnects.Load() {
			v.reconnects.Store(r)
			v.BumpAll()
		}
	}
	return 0, true
}

// Bump moves tenant to a new version at every instant: entries computed
// before are never served again.
func (v *Versions) Bump(tenant string) { v.BumpSince(tenant, time.Time{}) }

// BumpSince moves tenant to a new version for every instant after since,
// the oldest event time the change touched (zero: any time).
func (v *Versions) BumpSince(tenant string, since time.Time) {
	v.mu.Lock()
	n := v.seq.Add(1) // under mu: steps stay ordered by version
	steps := v.byTenant[tenant]
	i := sort.Search(len(steps), func(i int) bool { return !steps[i].since.Before(since) })
	steps = append(steps[:i], step{since: since, version: n})
	if len(steps) > maxSteps {
		steps = append(tenantSteps{{since: steps[0].since, version: steps[1].version}}, steps[2:]...)
	}
	v.byTenant[tenant] = steps
	v.mu.Unlock()
}

// BumpAll moves every tenant to a new version (and forgets the per-tenant
// numbers, which the floor now exceeds).
func (v *Versions) BumpAll() {
	v.mu.Lock()
	v.floor.Store(v.seq.Add(1))
	clear(v.byTenant)
	v.mu.Unlock()
}

// Follow bumps the tenant tenantOf names in each message on subject (which
// may end in a wildcard) until the returned subscription is drained. A
// message naming no tenant moves every tenant, since the change cannot be
// placed.
func (v *Versions) Follow(nc *nats.Conn, subject string, tenantOf func(*nats.Msg) string) (*nats.Subscription, error) {
	return v.FollowChanges(nc, subject, func(m *nats.Msg) Change { return Change{Tenant: tenantOf(m)} })
}

// FollowChanges applies the Change changeOf reads from each message on
// subject (which may end in a wildcard) until the returned subscription is
// drained. The subscription keeps every message (no slow-consumer drops)
// and Current watches nc's health from now on.
func (v *Versions) FollowChanges(nc *nats.Conn, subject string, changeOf func(*nats.Msg) Change) (*nats.Subscription, error) {
	v.conn = nc
	v.reconnects.Store(nc.Stats().Reconnects)
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		if c := changeOf(m); c.Tenant != "" {
			v.BumpSince(c.Tenant, c.Since)
		} else {
			v.BumpAll()
		}
	})
	if err != nil {
		return nil, err
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	return sub, nil
}

// TenantFromSubject reads the tenant from the last token of a subject such
// as analytics.ingest.committed.<tenant>.
func TenantFromSubject(m *nats.Msg) string {
	return m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
}

// TenantFromJSON reads the tenant from a JSON body's "tenant" field (an
// erasure receipt, an ingest notice).
func TenantFromJSON(m *nats.Msg) string {
	var body struct {
		Tenant string `json:"tenant"`
	}
	_ = json.Unmarshal(m.Data, &body) // an unreadable body names no tenant: everyone moves
	return body.Tenant
}
