package journeys

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// Funnel answers a funnel query for the caller's tenant.
func (s *Service) Funnel(ctx context.Context, r FunnelRequest) (*FunnelResult, error) {
	p, scope, err := s.prepareFunnel(ctx, r)
	if err != nil {
		return nil, err
	}
	sql, args := p.funnelSQL(scope)
	rows, err := s.query(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := len(p.Steps)
	res := &FunnelResult{}
	for rows.Next() {
		var value any
		var total uint8
		counts := make([]int64, n)
		quants := make([][2]int64, n+1)
		var dest []any
		if p.Breakdown != nil {
			dest = append(dest, &value, &total)
		}
		for k := range counts {
			dest = append(dest, &counts[k])
		}
		for k := 2; k <= n && p.Order != Unordered; k++ {
			var ignored any
			dest = append(dest, &ignored, &quants[k][0], &quants[k][1])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		steps := p.steps(counts, nil, func(k int) (med, p90 *time.Duration) {
			if counts[k-1] == 0 {
				return nil, nil
			}
			a, b := time.Duration(quants[k][0])*time.Millisecond, time.Duration(quants[k][1])*time.Millisecond
			return &a, &b
		})
		switch {
		case p.Breakdown == nil || total == 1:
			res.Steps = steps
		case value == nil:
			res.Breakdowns = append(res.Breakdowns, FunnelBreakdown{Value: OtherValue, Other: true, Steps: steps})
		default:
			res.Breakdowns = append(res.Breakdowns, FunnelBreakdown{Value: value.(string), Steps: steps})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Top values by entered users, ties by value; other last.
	slices.SortStableFunc(res.Breakdowns, func(a, b FunnelBreakdown) int {
		if a.Other != b.Other {
			return map[bool]int{true: 1, false: -1}[a.Other]
		}
		return cmp.Or(cmp.Compare(b.Steps[0].Entered, a.Steps[0].Entered), cmp.Compare(a.Value, b.Value))
	})
	if res.Steps == nil { // nobody entered: the grand total row is absent
		res.Steps = p.steps(make([]int64, n), func(int) []int64 { return nil }, nil)
	}
	return res, nil
}

// prepareFunnel validates r, scopes the caller and checks that every
// event type it names exists for the tenant.
func (s *Service) prepareFunnel(ctx context.Context, r FunnelRequest) (*funnelPlan, store.Scope, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, store.Scope{}, err
	}
	p, err := checkFunnel(r, s.now())
	if err != nil {
		return nil, store.Scope{}, err
	}
	p.keyBits = s.keyBits
	ms, fields := p.matchers()
	if err := s.requireKnown(ctx, funnelOp, scope, ms, fields); err != nil {
		return nil, store.Scope{}, err
	}
	return p, scope, nil
}
