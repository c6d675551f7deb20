package metrics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv"
	"github.com/learnhub/analytics-service/platform/respcache"
	"github.com/learnhub/analytics-service/store"
)

// defsMaxAge bounds how long an in-process copy of a tenant's definitions
// is trusted even while Redis says it is current: a generation lost with a
// Redis outage during a write costs at most this much staleness.
const defsMaxAge = time.Minute

// generationKey holds a random token naming the current generation of a
// tenant's metric definitions. Every write replaces it, so every replica
// can trust its in-process copy while the tokens match: one Redis GET
// instead of reading the metrics table on every metricQuery.
func generationKey(tenant string) string { return "metrics:gen:" + tenant }

// cachedDefs is a tenant's definitions as read under one generation.
type cachedDefs struct {
	gen  string
	at   time.Time
	defs []*Definition
}

// cached returns the tenant's definitions from the in-process copy when its
// generation is current, else reads them and keeps the copy. Without
// Config.Cache, or when Redis fails, it always reads.
func (r *Registry) cached(ctx context.Context, scope store.Scope) ([]*Definition, error) {
	all, _, err := r.cachedGen(ctx, scope)
	return all, err
}

// cachedGen is cached with the generation the definitions were read under
// ("" when no copy can be trusted: without Config.Cache or Redis).
func (r *Registry) cachedGen(ctx context.Context, scope store.Scope) ([]*Definition, string, error) {
	if r.cfg.Cache == nil {
		_, all, err := r.reload(ctx, scope)
		return all, "", err
	}
	gen, err := r.generation(ctx, scope.Tenant())
	if err != nil {
		_, all, err := r.reload(ctx, scope)
		return all, "", err
	}
	if v, ok := r.defs.Load(scope.Tenant()); ok {
		c := v.(cachedDefs)
		if c.gen == gen && time.Since(c.at) < defsMaxAge {
			return slices.Clone(c.defs), gen, nil
		}
	}
	// The generation was read before the definitions: a write that lands
	// in between replaces it, so this copy is re-read on the next call.
	_, all, err := r.reload(ctx, scope)
	if err != nil {
		return nil, "", err
	}
	r.defs.Store(scope.Tenant(), cachedDefs{gen: gen, at: time.Now(), defs: all})
	return slices.Clone(all), gen, nil
}

// generation is the tenant's current generation token; a missing one (first
// use, or evicted) starts a new generation that no copy matches.
func (r *Registry) generation(ctx context.Context, tenant string) (string, error) {
	key := generationKey(tenant)
	gen, err := r.cfg.Cache.Get(ctx, key)
	if errors.Is(err, kv.ErrMiss) {
		if _, err := r.cfg.Cache.SetNX(ctx, key, []byte(uuid.NewString()), 0); err != nil {
			return "", err
		}
		gen, err = r.cfg.Cache.Get(ctx, key)
	}
	return string(gen), err
}

// newGeneration replaces the tenant's generation after a write, so every
// replica's copy is stale; this process's copy is dropped at once.
func (r *Registry) newGeneration(ctx context.Context, tenant string) {
	r.defs.Delete(tenant)
	if r.cfg.Cache != nil {
		_ = r.cfg.Cache.Set(context.WithoutCancel(ctx), generationKey(tenant), []byte(uuid.NewString()), 0)
	}
}

// Lookup returns the caller's metric with this id (or, when id is empty,
// key) and the generation of the tenant's definitions it was read under: a
// token every write of one of the tenant's metrics replaces, so an answer
// cached under it is never served after a definition it may read (a
// formula's components included) changed. gen is "" without Config.Cache
// or when Redis fails: then no answer can be trusted across a write. The
// definition is the registry's copy: callers must not modify it.
func (r *Registry) Lookup(ctx context.Context, id, key string) (d *Definition, gen string, err error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, "", err
	}
	if err := r.ensureCatalog(ctx, scope); err != nil {
		return nil, "", err
	}
	all, gen, err := r.cachedGen(ctx, scope)
	if err != nil {
		return nil, "", err
	}
	if gen == "" {
		respcache.Uncacheable(ctx, "metrics: no definitions generation")
	} else {
		respcache.Match(ctx, generationKey(scope.Tenant()), gen)
	}
	for _, d := range all {
		if id != "" && d.ID == id || id == "" && d.Key == key {
			return d, gen, nil
		}
	}
	return nil, "", errs.E("metrics.Lookup", errs.KindNotFound, fmt.Sprintf("metric %q not found", id+key))
}
