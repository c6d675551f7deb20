package dashboards

import (
	"context"
	"strconv"
	"time"

	"github.com/learnhub/analytics-service/platform/respcache"
	"github.com/learnhub/analytics-service/store"
)

// versionTTL bounds how long a published dashboard version is kept in Redis;
// a missing one only costs a read from ClickHouse.
const versionTTL = 24 * time.Hour

// versionKey is where the current version of a dashboard is published, so
// every replica can trust its in-process copy of the definition while the
// versions match.
func versionKey(scope store.Scope, id string) string {
	return "dash:ver:" + scope.Tenant() + ":" + id
}

// cachedDef is an in-process copy of a definition.
type cachedDef struct{ d *Dashboard }

// getForRender returns the dashboard for a render: the in-process copy when
// Redis says its version is still current (one Redis round trip instead of
// a ClickHouse read), otherwise a fresh read that refreshes the copy.
// Commands always read fresh.
func (s *Service) getForRender(ctx context.Context, scope store.Scope, op, idOrSlug string) (*Dashboard, error) {
	if s.cfg.Cache == nil {
		respcache.Uncacheable(ctx, "dashboards: no shared cache to follow definitions")
		return s.get(ctx, scope, op, idOrSlug)
	}
	local := scope.Tenant() + "\x00" + idOrSlug
	if v, ok := s.defs.Load(local); ok {
		d := v.(cachedDef).d
		cur, err := s.cfg.Cache.Get(ctx, versionKey(scope, d.ID))
		if err == nil && string(cur) == strconv.FormatUint(d.Version, 10) {
			respcache.Match(ctx, versionKey(scope, d.ID), string(cur))
			return d, nil
		}
	}
	d, err := s.get(ctx, scope, op, idOrSlug)
	if err != nil {
		s.defs.Delete(local)
		respcache.Uncacheable(ctx, "dashboards: not found")
		return nil, err
	}
	s.publishVersion(ctx, scope, d)
	s.defs.Store(local, cachedDef{d})
	respcache.Match(ctx, versionKey(scope, d.ID), strconv.FormatUint(d.Version, 10))
	return d, nil
}

// publishVersion records d's current version for every replica; the write
// paths call it after storing a new version.
func (s *Service) publishVersion(ctx context.Context, scope store.Scope, d *Dashboard) {
	if s.cfg.Cache == nil {
		return
	}
	_ = s.cfg.Cache.Set(context.WithoutCancel(ctx), versionKey(scope, d.ID), []byte(strconv.FormatUint(d.Version, 10)), versionTTL)
}
