package dashboards

import "context"

type freshKey struct{}

// WithFresh returns ctx whose renders skip cached widget data and recompute
// it. Live refreshers use it after new events arrived; ordinary renders keep
// the 60 s cache. A fresh render's relative window ends now (rounded up to
// the second), not at the start of the minute, so it includes the events
// whose commit woke the refresher; a fixed window's answer also refreshes
// the cache for everyone else.
func WithFresh(ctx context.Context) context.Context {
	return context.WithValue(ctx, freshKey{}, true)
}

func fresh(ctx context.Context) bool {
	v, _ := ctx.Value(freshKey{}).(bool)
	return v
}
