package main

import (
	"github.com/learnhub/analytics-service/live"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/platform/telemetry"
)

// readServingGauges points the operator gauges of the serve role at the
// components they read at scrape time: live refreshers, the GraphQL ad-hoc
// SQL service (exports' and insights' SQL run as jobs and show in the queue
// metrics) and the result and response caches' hits and misses.
func (a *app) readServingGauges(hub *live.Hub, results, responses *resultcache.Cache) {
	m := a.metrics
	m.Read(telemetry.LiveRefreshers, func() float64 { return float64(hub.Groups()) })
	m.Read(telemetry.AdhocRunning, func() float64 { return float64(a.svc.adhoc.Running()) })
	if results == nil { // ANALYTICS_RESULT_CACHE_SIZE=0: hits and misses stay at zero
		return
	}
	m.Read(telemetry.CacheHits, func() float64 {
		st := results.Stats()
		return float64(st.Hits + st.Shared)
	})
	m.Read(telemetry.CacheMisses, func() float64 { return float64(results.Stats().Computes) })
	m.Read(telemetry.ResponseHits, func() float64 {
		st := responses.Stats()
		return float64(st.Hits + st.Shared)
	})
	m.Read(telemetry.ResponseMisses, func() float64 { return float64(responses.Stats().Computes) })
}
