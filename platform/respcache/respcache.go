// Package respcache records what one GraphQL response depends on, so the
// response can be kept and served again while all of it still holds.
//
// The GraphQL layer (api) puts a Deps in the context of a query it may
// keep; resolvers on the way say what their answer rests on besides the
// tenant's events (which the response cache keys by data version, as
// package resultcache does): a value in Redis that must still be current
// (a dashboard's published version, the generation of the tenant's metric
// definitions), an instant after which the answer is wrong (the end of a
// window aligned to "now"), or that it cannot be kept at all. A resolver
// that says nothing about itself makes the response uncacheable: api
// refuses to keep a response in which any resolver it does not know ran.
// Without a Deps in the context every call is a no-op.
package respcache

import (
	"context"
	"maps"
	"sync"
	"time"
)

// Deps is what a response depends on. Its methods are safe for concurrent
// use (fields resolve concurrently).
type Deps struct {
	mu          sync.Mutex
	uncacheable string
	until       time.Time
	match       map[string]string
}

type ctxKey struct{}

// With returns ctx carrying a new Deps for one response.
func With(ctx context.Context) (context.Context, *Deps) {
	d := &Deps{}
	return context.WithValue(ctx, ctxKey{}, d), d
}

// From returns the Deps of ctx's response, nil when none is collected.
func From(ctx context.Context) *Deps {
	d, _ := ctx.Value(ctxKey{}).(*Deps)
	return d
}

// Uncacheable says the response must not be kept (reason is for logs and
// tests).
func Uncacheable(ctx context.Context, reason string) {
	if d := From(ctx); d != nil {
		d.SetUncacheable(reason)
	}
}

// Until says the response is wrong from t on.
func Until(ctx context.Context, t time.Time) {
	if d := From(ctx); d != nil {
		d.mu.Lock()
		if d.until.IsZero() || t.Before(d.until) {
			d.until = t
		}
		d.mu.Unlock()
	}
}

// Match says the response holds while the shared key-value store has value
// at key.
func Match(ctx context.Context, key, value string) {
	if d := From(ctx); d != nil {
		d.mu.Lock()
		if old, ok := d.match[key]; ok && old != value {
			d.uncacheable = "two values of " + key + " in one response"
		}
		if d.match == nil {
			d.match = map[string]string{}
		}
		d.match[key] = value
		d.mu.Unlock()
	}
}

// SetUncacheable is Uncacheable on d; the first reason stays.
func (d *Deps) SetUncacheable(reason string) {
	d.mu.Lock()
	if d.uncacheable == "" {
		d.uncacheable = reason
	}
	d.mu.Unlock()
}

// Snapshot returns what was recorded: why the response cannot be kept
// ("" when it can), the instant it expires (zero: none) and the key-value
// pairs it rests on.
func (d *Deps) Snapshot() (uncacheable string, until time.Time, match map[string]string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.uncacheable, d.until, maps.Clone(d.match)
}
