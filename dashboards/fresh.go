package dashboards

import "context"

type freshKey struct{}

// WithFresh returns ctx whose renders skip cached widget data and recompute
// it (refreshing the cache for everyone else). Live refreshers use it after
// new events arrived; ordinary renders keep the 60 s cache.
func WithFresh(ctx context.Context) context.Context {
	return context.WithValue(ctx, freshKey{}, true)
}

func fresh(ctx context.Context) bool {
	v, _ := ctx.Value(freshKey{}).(bool)
	return v
}
