package dashboards

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/resultcache"
)

// Widgets read through the results cache (Config.ResultCache) when the
// server has one: an entry is keyed by the tenant's data version, which
// the ingest commit notices move, so a widget's answer is recomputed when
// the tenant's events changed and not before, and N identical concurrent
// renders cost one computation. Render aligns relative windows to whole
// buckets (timerange.ResolveAligned), so the key of a `last: 30d` widget
// holds still for the day instead of moving every minute, and the daily
// rollups answer every whole day of it exactly.
//
// Widgets with cohort conditions (metric cohorts, a cohort breakdown, a
// journey naming cohorts) stay on the TTL-bounded Redis cache: cohort
// membership changes with each evaluation, not with ingest.

// resultKind names widget answers in the results cache.
const resultKind = "dashboardWidget"

// resultKey is everything a widget's answer depends on besides the
// tenant's events: the widget at its version, the resolved window, zone
// and filters, and either the generation of the tenant's metric
// definitions (metric widgets) or the journey query as resolved for this
// render (journey widgets with their own window).
type resultKey struct {
	Dashboard string
	Widget    string
	Version   uint64
	From, To  time.Time
	Zone      string
	Filters   []metrics.Filter
	Gen       string          `json:",omitempty"`
	Journey   *journeys.Query `json:",omitempty"`
}

// widgetFailed carries a widget answer with an error out of a results
// cache computation, so it reaches every waiter but is never stored.
type widgetFailed struct{ wd *WidgetData }

func (widgetFailed) Error() string { return "dashboards: widget failed" }

// generations remembers, for one render, the tenant's metric definitions
// generation once a lookup found it.
type generations struct {
	mu  sync.Mutex
	gen string
}

// fromResults answers widget w through the results cache; ok is false when
// the widget cannot be versioned (no cache, cohort conditions, no trusted
// definitions generation) and the caller takes the Redis path. A live
// render (WithFresh) recomputes and replaces the entry (resultcache.Refresh).
func (r *render) fromResults(ctx context.Context, w Widget) (*WidgetData, bool) {
	c := r.s.cfg.ResultCache
	if c == nil || len(w.Cohorts) > 0 || w.CohortBreakdown != "" {
		return nil, false
	}
	key := resultKey{Dashboard: r.d.ID, Widget: w.ID, Version: w.Version, From: r.rng.From, To: r.rng.To,
		Zone: r.d.Timezone, Filters: r.filters}
	if w.Kind.Journey() {
		if w.Journey == nil || len(w.Journey.CohortRefs("")) > 0 {
			return nil, false
		}
		q, err := r.journeyQuery(w)
		if err != nil {
			return nil, false // compute reports it
		}
		key.Journey = &q
	} else if key.Gen = r.generation(ctx, w); key.Gen == "" {
		return nil, false
	}
	compute := func(ctx context.Context) (*WidgetData, error) {
		wd := r.compute(ctx, w)
		if wd.Error != nil || (wd.Overlay != nil && wd.Overlay.Error != nil) {
			return nil, widgetFailed{wd} // answered, never cached
		}
		return wd, nil
	}
	var (
		wd  *WidgetData
		hit bool
		err error
	)
	if fresh(ctx) {
		wd, err = resultcache.Refresh(ctx, c, r.scope.Tenant(), resultKind, key, compute)
	} else {
		wd, hit, err = resultcache.Do(ctx, c, r.scope.Tenant(), resultKind, key, compute)
	}
	var failed widgetFailed
	switch {
	case errors.As(err, &failed):
		wd = failed.wd
	case err != nil: // the caller left, or the computation panicked
		return r.failed(w, err), true
	}
	cp := *wd // entries are shared: each caller gets its own copy
	cp.Cached = hit
	return &cp, true
}

// generation is the generation of the tenant's metric definitions (see
// metrics.Registry.Lookup), read once per render; "" when none can be
// trusted (no Redis), and then metric widgets are not versioned.
func (r *render) generation(ctx context.Context, w Widget) string {
	r.gens.mu.Lock()
	defer r.gens.mu.Unlock()
	if r.gens.gen == "" && len(w.MetricKeys) > 0 {
		if _, gen, err := r.s.reg.Lookup(ctx, "", w.MetricKeys[0]); err == nil {
			r.gens.gen = gen
		}
	}
	return r.gens.gen
}

// failed is widget w's answer when its computation could not answer at all.
func (r *render) failed(w Widget, err error) *WidgetData {
	now := r.s.cfg.Now().UTC()
	return &WidgetData{WidgetID: w.ID, WidgetVersion: w.Version, Results: make([]*metrics.Result, len(w.MetricKeys)),
		Notices: []string{}, ComputedAt: now, FreshUntil: now,
		Error: &WidgetError{Code: errs.KindOf(err).String(), Message: errs.PublicMessage(err)}}
}
