package dashboards

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// cachePrefix starts every widget cache key; bump its version when
// WidgetData's encoding changes.
const cachePrefix = "dash:w3:"

// cacheKey names one widget's data for one tenant, dashboard, widget
// version, normalised filter set, resolved range and zone. The tenant is
// always part of it, so no entry is ever shared across tenants; the
// variable part is hashed to keep keys short.
func cacheKey(scope store.Scope, d *Dashboard, w Widget, rng timerange.Range, filters []metrics.Filter) string {
	fj, _ := json.Marshal(filters)
	h := sha256.New()
	h.Write(fj)
	h.Write([]byte("|" + rng.From.UTC().Format(time.RFC3339Nano) + "|" + rng.To.UTC().Format(time.RFC3339Nano) + "|" + d.Timezone))
	return cachePrefix + scope.Tenant() + ":" + d.ID + ":" + w.ID + ":" + strconv.FormatUint(w.Version, 10) + ":" +
		hex.EncodeToString(h.Sum(nil)[:16])
}

// cacheGet returns fresh cached widget data. Freshness is checked against
// the stored FreshUntil with the service clock (Redis' TTL is a backstop
// that frees the memory); any cache failure is a miss.
func (s *Service) cacheGet(ctx context.Context, key string) (*WidgetData, bool) {
	if s.cfg.Cache == nil {
		return nil, false
	}
	raw, err := s.cfg.Cache.Get(ctx, key)
	if err != nil {
		return nil, false
	}
	wd := &WidgetData{}
	if json.Unmarshal(raw, wd) != nil || !s.cfg.Now().Before(wd.FreshUntil) {
		return nil, false
	}
	wd.Cached = true
	return wd, true
}

// cachePut stores widget data until its FreshUntil; failures only cost a
// later recomputation.
func (s *Service) cachePut(ctx context.Context, key string, wd *WidgetData) {
	if s.cfg.Cache == nil {
		return
	}
	raw, err := json.Marshal(wd)
	if err != nil {
		return
	}
	_ = s.cfg.Cache.Set(context.WithoutCancel(ctx), key, raw, s.cfg.CacheTTL)
}
