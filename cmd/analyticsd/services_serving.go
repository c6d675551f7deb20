package main

import (
	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/privacy"
)

// resultCache builds the serve role's results cache: per-tenant data
// versions follow the ingest commit notices and erasure receipts every
// replica receives on NATS. ANALYTICS_RESULT_CACHE_SIZE=0 turns it off.
func (a *app) resultCache() (*resultcache.Cache, error) {
	if a.cfg.ResultCacheSize == 0 {
		return nil, nil
	}
	versions := resultcache.NewVersions()
	if nc := a.bus.Conn(); nc != nil {
		if _, err := versions.FollowChanges(nc, ingest.NoticeSubjectPrefix+"*", ingest.NoticeChange); err != nil {
			return nil, err
		}
		if _, err := versions.Follow(nc, privacy.SubjectErasureCompleted, resultcache.TenantFromJSON); err != nil {
			return nil, err
		}
	}
	return resultcache.New(resultcache.Config{Versions: versions, MaxEntries: a.cfg.ResultCacheSize, MaxAge: a.cfg.ResultCacheMaxAge}), nil
}
