package journeys

import (
	"context"
	"fmt"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// actorsSQL prints the statement of a step's users (those who reached
// a.Step, or dropped after it), by user id after after, at most limit.
func (p *funnelPlan) actorsSQL(scope store.Scope, a ActorsRequest, after string, limit int) (string, []any) {
	var q sqlText
	q.add("SELECT user_id, r FROM (")
	p.userSQL(&q, scope, funnelCols{})
	if a.Dropped {
		q.add(") WHERE r = ?", a.Step)
	} else {
		q.add(") WHERE r >= ?", a.Step)
	}
	if a.Value != nil {
		q.add(" AND b = ?", *a.Value)
	}
	if after != "" {
		q.add(" AND user_id > ?", after)
	}
	q.add(" ORDER BY user_id LIMIT ?", limit)
	return q.String(), q.args
}

// FunnelActorIDs returns every user of a step (as FunnelActors picks
// them; a.First and a.After are ignored) in one statement, by user id.
// More than limit users is KindInvalid naming "step": the caller's cap
// (a static cohort's size) is the limit, so no page loop re-runs the
// funnel per thousand users.
func (s *Service) FunnelActorIDs(ctx context.Context, r FunnelRequest, a ActorsRequest, limit int) ([]string, error) {
	p, scope, err := s.prepareFunnel(ctx, r)
	if err != nil {
		return nil, err
	}
	a.First, a.After = 0, ""
	if _, _, err := p.checkActors(a); err != nil {
		return nil, err
	}
	sql, args := p.actorsSQL(scope, a, "", limit+1)
	rows, err := s.query(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		var reached uint8
		if err := rows.Scan(&id, &reached); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) > limit {
		return nil, errs.Invalid(funnelOp, "step", fmt.Sprintf("step %d has more than %d users; narrow the funnel (timeRange, cohorts, breakdownValue)", a.Step, limit))
	}
	return ids, nil
}
