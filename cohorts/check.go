package cohorts

import (
	"context"
	"fmt"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// CheckCohorts implements metrics.CohortChecker for metricQuery, dashboard
// widgets and metric exports: every referenced cohort must be the caller
// tenant's (otherwise KindNotFound naming the ref's field), and each one
// without a successful evaluation gets a notice (it has no members yet).
func (s *Service) CheckCohorts(ctx context.Context, op string, refs []metrics.CohortRef) ([]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	var notices []string
	for _, ref := range refs {
		if _, err := s.get(ctx, scope, ref.ID); err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return nil, errs.E(op, errs.KindNotFound,
					fmt.Sprintf("%s: no cohort %q; list the tenant's cohorts with the cohorts query", ref.Field, ref.ID)).With("field", ref.Field)
			}
			return nil, err
		}
		good, err := s.history(ctx, scope, ref.ID, "AND error = '' ORDER BY version DESC LIMIT ?", 1)
		if err != nil {
			return nil, err
		}
		if len(good) == 0 {
			notices = append(notices, fmt.Sprintf("cohort %q has no successful evaluation yet, so it has no members; run evaluateCohort", ref.ID))
		}
	}
	return notices, nil
}
