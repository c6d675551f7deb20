package journeys

import (
	"context"
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// actorsSQL prints the statement of a step's users (those who reached
// a.Step, or dropped after it), by user id after after, at most limit.
func (p *funnelPlan) actorsSQL(scope store.Scope, a ActorsRequest, after string, limit int) (string, []any) {
	var q sqlText
	p.stepUsersSQL(&q, scope, a)
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

// stepUsersSQL prints the (user_id, r) rows of the users of step a.Step
// (reached it, or with a.Dropped reached it and not the next), open for
// more conditions.
func (p *funnelPlan) stepUsersSQL(q *sqlText, scope store.Scope, a ActorsRequest) {
	q.add("SELECT user_id, r FROM (")
	p.userSQL(q, scope, funnelCols{})
	if a.Dropped {
		q.add(") WHERE r = ?", a.Step)
	} else {
		q.add(") WHERE r >= ?", a.Step)
	}
}

// checkAfterFunnel checks a paths request's AfterFunnel (fields named
// afterFunnel.…) and anchors the paths at the step when they have no anchor.
func (p *pathsPlan) checkAfterFunnel(now time.Time) error {
	a := p.AfterFunnel
	if a == nil {
		return nil
	}
	f := a.Funnel
	if f.TimeRange == (timerange.Spec{}) {
		f.TimeRange = p.TimeRange
	}
	fp, err := checkFunnel(f, now)
	if err != nil {
		return PrefixField(err, "afterFunnel.funnel.")
	}
	if _, _, err := fp.checkActors(ActorsRequest{Step: a.Step, Dropped: a.Dropped}); err != nil {
		return PrefixField(err, "afterFunnel.")
	}
	p.after = fp
	if p.StartEvent == nil && p.EndEvent == nil {
		m := fp.Steps[a.Step-1].Matcher
		p.StartEvent = &m
	}
	return nil
}
