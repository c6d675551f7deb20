package resultcache

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"
)

// Versions names each tenant's data version on this replica: a number that
// changes whenever a message says the tenant's events changed (an ingest
// commit notice, an erasure receipt) and otherwise stays put. Numbers come
// from one counter, so a version is never reused, and a tenant nobody has
// named yet shares the floor.
//
// Every replica subscribes to the same NATS subjects, so each learns of a
// change as soon as the writer announces it; the numbers differ between
// replicas, which is fine because each keeps its own entries. When the
// NATS connection is down a notice may be missed: Current then returns a
// fresh number on every call (nothing is served from the cache) and the
// first call after a reconnect moves every tenant to a new version.
type Versions struct {
	seq   atomic.Uint64
	floor atomic.Uint64 // every tenant's version is at least this

	mu       sync.RWMutex
	byTenant map[string]uint64

	conn       *nats.Conn
	reconnects atomic.Uint64
}

// NewVersions returns Versions with every tenant at the same version.
func NewVersions() *Versions {
	return &Versions{byTenant: map[string]uint64{}}
}

// Current returns tenant's data version.
func (v *Versions) Current(tenant string) uint64 {
	if v.conn != nil {
		if !v.conn.IsConnected() {
			return v.seq.Add(1)
		}
		if r := v.conn.Stats().Reconnects; r != v.reconnects.Load() {
			v.reconnects.Store(r)
			v.BumpAll()
		}
	}
	v.mu.RLock()
	t := v.byTenant[tenant]
	v.mu.RUnlock()
	return max(t, v.floor.Load())
}

// Bump moves tenant to a new version: entries computed before are never
// served again.
func (v *Versions) Bump(tenant string) {
	n := v.seq.Add(1)
	v.mu.Lock()
	v.byTenant[tenant] = n
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
// may end in a wildcard) until the returned subscription is drained. The
// subscription keeps every message (no slow-consumer drops) and Current
// watches nc's health from now on. A message naming no tenant moves every
// tenant, since the change cannot be placed.
func (v *Versions) Follow(nc *nats.Conn, subject string, tenantOf func(*nats.Msg) string) (*nats.Subscription, error) {
	v.conn = nc
	v.reconnects.Store(nc.Stats().Reconnects)
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		if t := tenantOf(m); t != "" {
			v.Bump(t)
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
