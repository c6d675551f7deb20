package main

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/monitors"
)

// openMonitors builds the monitor service: definitions and scores in
// ClickHouse, metric values through the shared querier (rollups where they
// apply, the hot horizon enforced), backfills and ticks on the job queue.
func (a *app) openMonitors(s *services) *monitors.Service {
	return monitors.NewService(a.db, s.registry, s.querier, monitors.Config{Locks: a.kv, Queue: s.jobs,
		Reviewer: a.monitorReviewer()})
}

// catchUpMonitors enqueues the monitors' catch-up when the workers start:
// a tenant whose monitors are behind the latest complete bucket is scored
// now, not at the next tick (DAY: 00:20 UTC). Keyed by the hour, so
// replicas starting together enqueue it once.
func (a *app) catchUpMonitors(ctx context.Context) {
	reason := "start:" + time.Now().UTC().Format("2006-01-02T15")
	if _, err := a.svc.monitors.CatchUp(ctx, reason, false); err != nil {
		a.log.Warn("monitors catch-up not enqueued", "err", err)
	}
}

// rescoreAfterSeed waits until ingest has loaded the n demo events just
// published (at most demoLoadWait), then has every tenant's monitors
// rescored over their whole window: the key metrics' rules leave NO_DATA
// within minutes of `make run`, and no score is left from a half-loaded
// data set.
func (a *app) rescoreAfterSeed(ctx context.Context, n int) {
	ctx, cancel := context.WithTimeout(ctx, demoLoadWait)
	defer cancel()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	var tenants []any
	for _, t := range demo.DefaultTenants() {
		tenants = append(tenants, t.ID)
	}
	for {
		var loaded uint64
		err := a.db.QueryRow(ctx, []any{&loaded}, "SELECT count() FROM events WHERE tenant_id IN (?, ?, ?)", tenants...)
		if err == nil && loaded >= uint64(n) {
			break
		}
		select {
		case <-ctx.Done():
			a.log.Warn("demo data not fully loaded in time; rescoring monitors on what is there", "loaded_want", n)
		case <-tick.C:
			continue
		}
		break
	}
	reason := "demo-seed:" + time.Now().UTC().Format("2006-01-02")
	if _, err := a.svc.monitors.CatchUp(context.WithoutCancel(ctx), reason, true); err != nil {
		a.log.Warn("monitors rescore after the demo seed not enqueued", "err", err)
	}
}

// demoLoadWait bounds how long the rescore waits for the demo seed to load.
const demoLoadWait = 15 * time.Minute
