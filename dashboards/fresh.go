package dashboards

import "context"

type freshKey struct{}

// WithFresh returns ctx whose renders skip cached widget data and recompute
// it. Live refreshers use it after new events arrived: the commit notice
// that wakes them also moves the tenant's data version, but in no set
// order, so an entry (or a computation in flight) under the old version
// could still hide the new events. The fresh answer replaces the cached
// one for everyone else. Ordinary renders read the cache.
func WithFresh(ctx context.Context) context.Context {
	return context.WithValue(ctx, freshKey{}, true)
}

func fresh(ctx context.Context) bool {
	v, _ := ctx.Value(freshKey{}).(bool)
	return v
}
