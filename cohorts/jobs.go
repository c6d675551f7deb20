package cohorts

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// systemActor is the principal of scheduled evaluations (audit rows).
const systemActor = "system:cohorts"

// evaluateParams is the payload of a cohorts:evaluate task.
type evaluateParams struct {
	CohortID     string    `json:"cohort_id"`
	ScheduledFor time.Time `json:"scheduled_for"`
}

// Enqueuer queues tasks (queue.Client implements it).
type Enqueuer interface {
	Enqueue(ctx context.Context, t jobs.Task) (jobs.Receipt, error)
}

// EvaluateHandler runs one cohorts:evaluate task. The tenant comes from the
// task, which only this package enqueues. Idempotent: the slot decides the
// version, so a retry lands on the recorded evaluation.
func (s *Service) EvaluateHandler() jobs.Handler {
	return jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		var p evaluateParams
		if err := j.Decode(&p); err != nil {
			return err
		}
		scope, err := store.DangerousScopeForTenant(j.Tenant)
		if err != nil {
			return err
		}
		// The metric registry reads the tenant from the caller, as for a request.
		ctx = auth.WithPrincipal(ctx, auth.Principal{Subject: systemActor, Tenant: j.Tenant, Roles: []auth.Role{auth.RoleAnalyst}})
		_, err = s.evaluate(ctx, scope, p.CohortID, p.ScheduledFor)
		return err
	})
}

// EvaluateAllHandler runs the hourly cohorts:evaluate-all task: one
// cohorts:evaluate task per active cohort of every tenant, for the current
// hour (so a repeated run enqueues nothing new).
func (s *Service) EvaluateAllHandler(q Enqueuer) jobs.Handler {
	return jobs.HandlerFunc(func(ctx context.Context, _ jobs.Job) error {
		hour := s.now().UTC().Truncate(time.Hour)
		active, err := s.dangerousActiveCohortsOfAllTenants(ctx)
		if err != nil {
			return err
		}
		for _, a := range active {
			if _, err := q.Enqueue(ctx, jobs.Task{Kind: KindEvaluate, Tenant: a.tenant,
				Params: evaluateParams{CohortID: a.id, ScheduledFor: hour}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Jobs is the cohort work a worker runs: one evaluation, and the hourly
// run that enqueues one evaluation per active cohort through Config.Queue.
func (s *Service) Jobs() []jobs.Registration {
	var all jobs.Handler = jobs.HandlerFunc(func(context.Context, jobs.Job) error {
		return errs.E("cohorts.EvaluateAll", errs.KindInternal, "cohorts.Config.Queue is not set: the hourly run cannot enqueue evaluations")
	})
	if s.cfg.Queue != nil {
		all = s.EvaluateAllHandler(s.cfg.Queue)
	}
	e := Entry(s.cfg.Spec)
	return []jobs.Registration{
		{Kind: KindEvaluate, Handler: s.EvaluateHandler()},
		{Kind: KindEvaluateAll, Handler: all, Schedule: &e},
	}
}

// Entry is the hourly schedule of cohorts:evaluate-all.
func Entry(spec string) jobs.Entry {
	if spec == "" {
		spec = DefaultSpec
	}
	return jobs.Entry{Name: KindEvaluateAll, Spec: spec, Task: jobs.Task{Kind: KindEvaluateAll}, KeyLayout: "2006-01-02T15"}
}

type tenantCohort struct{ tenant, id string }

// dangerousActiveCohortsOfAllTenants reads ids across tenants: system work
// that only lists (tenant, cohort) pairs to enqueue tenant-scoped tasks.
func (s *Service) dangerousActiveCohortsOfAllTenants(ctx context.Context) ([]tenantCohort, error) {
	rows, err := s.db.Query(ctx, "SELECT tenant_id, cohort_id FROM cohorts FINAL WHERE is_deleted = 0 AND active = 1 ORDER BY tenant_id, cohort_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tenantCohort
	for rows.Next() {
		var tc tenantCohort
		if err := rows.Scan(&tc.tenant, &tc.id); err != nil {
			return nil, err
		}
		out = append(out, tc)
	}
	return out, rows.Err()
}
