package monitors

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
)

// tickParams is the payload of a monitors:tick task.
type tickParams struct {
	Grain metrics.Grain `json:"grain"`
}

// evaluateParams is the payload of a monitors:evaluate task.
type evaluateParams struct {
	Grain        metrics.Grain `json:"grain"`
	ScheduledFor time.Time     `json:"scheduled_for"`
	// Rescore writes every bucket of the window (a catch-up after a bulk
	// load), not only the newest.
	Rescore bool `json:"rescore,omitempty"`
}

// backfillParams is the payload of a monitors:backfill task.
type backfillParams struct {
	MonitorID    string    `json:"monitor_id"`
	Version      uint64    `json:"version"`
	ScheduledFor time.Time `json:"scheduled_for"`
}

// Jobs is the monitor work a worker runs: the two ticks (HOUR and DAY),
// the per-tenant evaluation they enqueue, the backfill of a created or
// retuned monitor, and the catch-up of monitors behind their latest
// complete bucket (CatchUp).
func (s *Service) Jobs() []jobs.Registration {
	hour, day := Entry(GrainHour, s.cfg.HourSpec), Entry(GrainDay, s.cfg.DaySpec)
	return []jobs.Registration{
		{Kind: KindTick, Handler: s.TickHandler(), Schedule: &hour},
		// One handler serves both entries; the second registration only adds
		// the DAY schedule.
		{Schedule: &day},
		{Kind: KindEvaluate, Handler: s.EvaluateHandler()},
		{Kind: KindBackfill, Handler: s.BackfillHandler()},
		{Kind: KindCatchUp, Handler: s.CatchUpHandler(), Schedule: &jobs.Entry{Name: KindCatchUp, Spec: CatchUpSpec,
			Task: jobs.Task{Kind: KindCatchUp, Queue: jobs.QueueLow, Params: catchUpParams{}}}},
	}
}

// Entry is the cron schedule of one grain's tick; spec "" means HourSpec or
// DaySpec. The key is the firing hour or day, so replicas enqueue it once.
func Entry(g metrics.Grain, spec string) jobs.Entry {
	layout := "2006-01-02T15"
	if spec == "" {
		spec = HourSpec
	}
	if g == GrainDay {
		layout = "2006-01-02"
		if spec == HourSpec {
			spec = DaySpec
		}
	}
	return jobs.Entry{Name: KindTick + ":" + string(g), Spec: spec, KeyLayout: layout,
		Task: jobs.Task{Kind: KindTick, Params: tickParams{Grain: g}, Queue: jobs.QueueLow}}
}

// TickHandler runs monitors:tick: one monitors:evaluate task per tenant
// (every tenant with recent events or stored monitors: the key-metric
// defaults watch tenants nobody configured) for the bucket that closed.
// TaskIDs derive from (tenant, grain, bucket), so a repeated tick enqueues
// nothing new.
func (s *Service) TickHandler() jobs.Handler {
	return jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		if s.cfg.Queue == nil {
			return errs.E("monitors.Tick", errs.KindInternal, "monitors.Config.Queue is not set: the tick cannot enqueue evaluations")
		}
		var p tickParams
		if err := j.Decode(&p); err != nil {
			return err
		}
		if err := checkGrain(p.Grain, "grain"); err != nil {
			return err
		}
		at := p.Grain.Truncate(s.cfg.Now().UTC(), time.UTC)
		tenants, err := s.dangerousTenants(ctx, at.AddDate(0, 0, -2))
		if err != nil {
			return err
		}
		for _, t := range tenants {
			if _, err := s.cfg.Queue.Enqueue(ctx, jobs.Task{Kind: KindEvaluate, Tenant: t, Queue: jobs.QueueLow,
				Params: evaluateParams{Grain: p.Grain, ScheduledFor: at}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// EvaluateHandler runs monitors:evaluate for the task's tenant. Idempotent:
// the scheduled time decides the window and the rows' version.
func (s *Service) EvaluateHandler() jobs.Handler {
	return jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		var p evaluateParams
		if err := j.Decode(&p); err != nil {
			return err
		}
		if err := checkGrain(p.Grain, "grain"); err != nil {
			return err
		}
		_, err := s.evaluate(ctx, j.Tenant, selection{grain: p.Grain, backfill: p.Rescore}, p.ScheduledFor)
		return err
	})
}

// BackfillHandler runs monitors:backfill: the whole window of one monitor
// version. A monitor changed or deleted since is skipped (its new version
// has its own backfill).
func (s *Service) BackfillHandler() jobs.Handler {
	return jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		var p backfillParams
		if err := j.Decode(&p); err != nil {
			return err
		}
		_, err := s.evaluate(ctx, j.Tenant, selection{monitorID: p.MonitorID, version: p.Version, backfill: true}, p.ScheduledFor)
		return err
	})
}

// dangerousTenants lists tenants across the store: system work that only
// names tenants to enqueue tenant-scoped tasks. A tenant counts when it
// has events since since (the daily active rollup) or stored monitors.
func (s *Service) dangerousTenants(ctx context.Context, since time.Time) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT tenant_id FROM (
		SELECT DISTINCT tenant_id FROM metrics_daily_active WHERE day >= toDate(?)
		UNION DISTINCT
		SELECT DISTINCT tenant_id FROM monitors FINAL WHERE is_deleted = 0 AND active = 1) ORDER BY tenant_id`, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
