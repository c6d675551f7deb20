package monitors

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// KindCatchUp evaluates, without waiting for the next tick, every tenant
// whose monitors are behind the latest bucket their tick should have
// covered.
const KindCatchUp = "monitors:catchup"

// CatchUpSpec is the cron schedule of the periodic catch-up: a tenant whose
// data arrived after its tick (a new tenant's first events, a backlog
// ingested after an outage, `analyticsd seed` run beside a running
// service) is scored within a quarter of an hour, not at the next tick.
const CatchUpSpec = "*/15 * * * *"

// Tick lags: a tick evaluates the bucket that closed this long before it
// fires (HourSpec at :05, DaySpec at 00:20), so late events land first. A
// catch-up only covers buckets whose tick should have run, so it never
// evaluates a bucket earlier than its tick would.
const (
	hourTickLag = 5 * time.Minute
	dayTickLag  = 20 * time.Minute
)

// catchUpParams is the payload of a monitors:catchup task.
type catchUpParams struct {
	// Rescore evaluates every tenant with events again from scratch (every
	// bucket of the window), even when its monitors are up to date: the
	// data under them changed (a bulk load such as the demo seed).
	Rescore bool `json:"rescore,omitempty"`
}

// CatchUp enqueues one monitors:catchup task. Reason keys it (its TaskID),
// so replicas asking for the same catch-up — "start:2026-12-05T02" from
// every replica starting in that hour, "demo-seed:2026-12-05" — enqueue it
// once. Without a catch-up, a monitor is first scored by the tick of its
// grain (the DAY tick runs at 00:20 UTC), so a tenant whose data has just
// been loaded sees its key metrics' rules in NO_DATA for up to a day.
func (s *Service) CatchUp(ctx context.Context, reason string, rescore bool) (jobs.Receipt, error) {
	if s.cfg.Queue == nil {
		return jobs.Receipt{}, errs.E("monitors.CatchUp", errs.KindInternal, "monitors.Config.Queue is not set: the catch-up cannot be enqueued")
	}
	return s.cfg.Queue.Enqueue(ctx, jobs.Task{Kind: KindCatchUp, Key: reason, Queue: jobs.QueueLow,
		Params: catchUpParams{Rescore: rescore}})
}

// CatchUpHandler runs monitors:catchup: for each grain, every tenant (with
// events in the last two days or stored monitors) that has an active
// monitor of that grain whose last evaluation is older than the latest
// bucket its tick should have covered — or that was never evaluated — gets
// the monitors:evaluate task of that bucket. It is the tick's own task (same TaskID), so a
// catch-up and a tick of the same bucket, or two replicas' catch-ups, run
// it once; a rescore is keyed apart and rewrites every bucket.
func (s *Service) CatchUpHandler() jobs.Handler {
	return jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		if s.cfg.Queue == nil {
			return errs.E("monitors.CatchUp", errs.KindInternal, "monitors.Config.Queue is not set: the catch-up cannot enqueue evaluations")
		}
		var p catchUpParams
		if err := j.Decode(&p); err != nil {
			return err
		}
		now := s.cfg.Now().UTC()
		for _, gl := range []struct {
			g   metrics.Grain
			lag time.Duration
		}{{GrainHour, hourTickLag}, {GrainDay, dayTickLag}} {
			g, at := gl.g, gl.g.Truncate(now.Add(-gl.lag), time.UTC)
			tenants, err := s.dangerousTenants(ctx, at.AddDate(0, 0, -2))
			if err != nil {
				return err
			}
			for _, t := range tenants {
				watched, behind, err := s.behind(ctx, t, g, at)
				if err != nil {
					return err
				}
				if !watched || (!behind && !p.Rescore) {
					continue
				}
				task := jobs.Task{Kind: KindEvaluate, Tenant: t, Queue: jobs.QueueLow,
					Params: evaluateParams{Grain: g, ScheduledFor: at, Rescore: p.Rescore}}
				if p.Rescore {
					task.Key = "rescore:" + j.ID
				}
				if _, err := s.cfg.Queue.Enqueue(ctx, task); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// behind reports whether tenant has an active monitor at grain g
// (watched), and whether one of them was last evaluated (at its current
// version) for a bucket before at, or never (behind).
func (s *Service) behind(ctx context.Context, tenant string, g metrics.Grain, at time.Time) (watched, behind bool, err error) {
	ctx, scope, all, err := s.monitorsOf(ctx, tenant)
	if err != nil {
		return false, false, err
	}
	last, err := s.lastEvaluated(ctx, scope)
	if err != nil {
		return false, false, err
	}
	for _, m := range all {
		if !m.Active || m.Grain != g {
			continue
		}
		watched = true
		if t, ok := last[runKey{m.ID, m.Version}]; !ok || t.Before(at) {
			behind = true
		}
	}
	return watched, behind, nil
}

// runKey names one monitor version.
type runKey struct {
	id      string
	version uint64
}

// lastEvaluated maps each monitor version of the tenant to the newest
// bucket time an evaluation was scheduled for.
func (s *Service) lastEvaluated(ctx context.Context, scope store.Scope) (map[runKey]time.Time, error) {
	guard, tenant := scope.Predicate("")
	rows, err := s.db.Query(ctx, "SELECT monitor_id, version, max(scheduled_for) FROM monitor_runs WHERE "+guard+" GROUP BY monitor_id, version", tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[runKey]time.Time{}
	for rows.Next() {
		var k runKey
		var t time.Time
		if err := rows.Scan(&k.id, &k.version, &t); err != nil {
			return nil, err
		}
		out[k] = t
	}
	return out, rows.Err()
}

// Evaluated reports whether monitor monitorID of tenant (at its current
// version) has been evaluated for the buckets before to — what an alert
// rule on it waits for before reading a missing score as NO_DATA. A
// monitor that is unknown or switched off is never evaluated: true, so
// nothing waits for it. Tenant comes from trusted input (the alerts tick).
func (s *Service) Evaluated(ctx context.Context, tenant, monitorID string, to time.Time) (bool, error) {
	ctx, scope, all, err := s.monitorsOf(ctx, tenant)
	if err != nil {
		return false, err
	}
	for _, m := range all {
		if m.ID != monitorID {
			continue
		}
		if !m.Active {
			return true, nil
		}
		last, err := s.lastEvaluated(ctx, scope)
		if err != nil {
			return false, err
		}
		t, ok := last[runKey{m.ID, m.Version}]
		return ok && !m.Grain.Truncate(t, time.UTC).Before(to), nil
	}
	return true, nil
}

// monitorsOf is tenant's system context and scope with its effective
// monitors (stored and key-metric defaults); tenant is trusted job input.
func (s *Service) monitorsOf(ctx context.Context, tenant string) (context.Context, store.Scope, []*Monitor, error) {
	ctx, scope, err := systemContext(ctx, tenant)
	if err != nil {
		return nil, store.Scope{}, nil, err
	}
	all, err := s.effective(ctx, scope)
	return ctx, scope, all, err
}
