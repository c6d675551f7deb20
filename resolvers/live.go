package resolvers

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/live"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// liveKey identifies shared live data: tenant and role of the caller (so
// callers who may see different data never share), the resource, and the
// normalised arguments.
func liveKey(ctx context.Context, resource string, filters []*model.MetricFilterInput, tr *model.TimeRange) (live.Key, error) {
	p, ok := auth.PrincipalFrom(ctx)
	if !ok {
		return live.Key{}, errs.E("resolvers.live", errs.KindUnauthenticated, "")
	}
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = string(r)
	}
	slices.Sort(roles)
	mf := toMetricFilters(filters)
	slices.SortFunc(mf, func(a, b metrics.Filter) int {
		if a.Dimension < b.Dimension {
			return -1
		}
		if a.Dimension > b.Dimension {
			return 1
		}
		return 0
	})
	var spec *timerange.Spec
	if tr != nil {
		s := timeSpec(*tr)
		spec = &s
	}
	args, err := json.Marshal(struct {
		F any
		T any
	}{mf, spec})
	if err != nil {
		return live.Key{}, err
	}
	role, _ := json.Marshal(roles)
	return live.Key{Tenant: p.Tenant, Role: string(role), Resource: resource, Args: string(args)}, nil
}

// renderFingerprint is what decides whether a render changed: the data, not
// the timestamps and cache flags around it.
func renderFingerprint(widgets []*dashboards.WidgetData) ([]byte, error) {
	type fp struct {
		ID      string
		Results any
		Err     any
		Notices []string
	}
	out := make([]fp, len(widgets))
	for i, w := range widgets {
		out[i] = fp{w.WidgetID, w.Results, w.Error, w.Notices}
	}
	return json.Marshal(out)
}

// subscribeRender starts (or joins) the live render of a dashboard and
// hands each changed rendering to emit.
func (r *Resolver) subscribeRender(ctx context.Context, key live.Key, idOrSlug string, filters []*model.MetricFilterInput, tr *model.TimeRange,
	pick func(*dashboards.Rendering) ([]*dashboards.WidgetData, error)) (<-chan any, error) {
	var spec *timerange.Spec
	if tr != nil {
		s := timeSpec(*tr)
		spec = &s
	}
	mf := toMetricFilters(filters)
	// Fail fast on a bad request instead of on the first refresh.
	first, err := r.DashboardService.Render(ctx, idOrSlug, mf, spec)
	if err != nil {
		return nil, err
	}
	if _, err := pick(first); err != nil {
		return nil, err
	}
	return r.LiveHub.Subscribe(ctx, key, func(ctx context.Context) (any, []byte, error) {
		res, err := r.DashboardService.Render(dashboards.WithFresh(ctx), idOrSlug, mf, spec)
		if err != nil {
			return nil, nil, err
		}
		ws, err := pick(res)
		if err != nil {
			return nil, nil, err
		}
		fp, err := renderFingerprint(ws)
		return res, fp, err
	})
}

// widgetOf picks one widget's data from a rendering.
func widgetOf(widgetID string) func(*dashboards.Rendering) ([]*dashboards.WidgetData, error) {
	return func(res *dashboards.Rendering) ([]*dashboards.WidgetData, error) {
		for _, w := range res.Widgets {
			if w.WidgetID == widgetID {
				return []*dashboards.WidgetData{w}, nil
			}
		}
		return nil, errs.Invalid("resolvers.widgetData", "widgetId", "the dashboard has no widget "+widgetID)
	}
}

func allWidgets(res *dashboards.Rendering) ([]*dashboards.WidgetData, error) { return res.Widgets, nil }

// forward maps hub values onto a typed GraphQL channel until ctx ends.
func forward[T any](ctx context.Context, in <-chan any, conv func(any) T) <-chan T {
	out := make(chan T, 1)
	go func() {
		defer close(out)
		for v := range in {
			select {
			case out <- conv(v):
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
