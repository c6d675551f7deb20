package reports

import (
	"context"
	"time"
)

// DueReports exposes the tick's query to the tests: the ids of the reports
// whose next_run_at has passed at now, as "<tenant>/<report>".
func (s *Service) DueReports(ctx context.Context, now time.Time) ([]string, error) {
	due, err := s.repo.dangerousUnscopedDue(ctx, now)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, st := range due {
		out = append(out, st.Tenant+"/"+st.ReportID)
	}
	return out, nil
}
