package journeys

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// Limits of the funnel's side questions.
const (
	DefaultBins     = 10
	MaxBins         = 50
	DefaultActors   = 100
	MaxActors       = 1000
	maxTrendBuckets = 400
)

// Bin is one bar of a time-to-convert histogram: users whose time between
// the two steps is in [From, To).
type Bin struct {
	From, To time.Duration
	Users    int64
}

// TrendPoint is the funnel of the users who entered in one period.
type TrendPoint struct {
	Start     time.Time // the period's start in the request's zone
	Entered   int64     // users whose first step-1 event is in the period
	Completed int64     // of them, users who reached the last step
	Rate      float64   // Completed / Entered
}

// ActorsRequest picks the users of one funnel step.
type ActorsRequest struct {
	Step    int     // 1-based
	Dropped bool    // false: users who reached Step; true: users who reached Step and not the next
	Value   *string // only users with this breakdown value (needs a breakdown)
	First   int     // page size; 0 means DefaultActors
	After   string  // cursor from a previous page
}

// Actor is one user of an actors page.
type Actor struct {
	UserID  string
	Reached int // the furthest step the user reached
}

// ActorsPage is one page of a funnel step's users, by user id.
type ActorsPage struct {
	Actors    []Actor
	HasNext   bool
	EndCursor string
}

// FunnelHistogram answers the distribution of the time users took from step
// from to step to (1-based, from < to), in bins of equal width (0 means
// DefaultBins). The times are those of each user's attempt that first
// reached step to.
func (s *Service) FunnelHistogram(ctx context.Context, r FunnelRequest, from, to, bins int) ([]Bin, error) {
	p, scope, err := s.prepareFunnel(ctx, r)
	if err != nil {
		return nil, err
	}
	if bins, err = p.checkHistogram(from, to, bins); err != nil {
		return nil, err
	}
	var q sqlText
	q.add("SELECT intDiv(h - lo, w) AS bin, any(lo), any(w), count() FROM (SELECT h, min(h) OVER () AS lo, " +
		"greatest(intDiv(max(h) OVER () - min(h) OVER () + " + q.bind(bins) + ", " + q.bind(bins) + "), 1) AS w FROM (")
	p.userSQL(&q, scope, funnelCols{hist: true, from: from, to: to})
	q.add(") WHERE h >= 0) GROUP BY bin ORDER BY bin")
	rows, err := s.query(ctx, q.String(), q.args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var lo, w int64
	counts := map[int64]int64{}
	for rows.Next() {
		var b, n int64
		if err := rows.Scan(&b, &lo, &w, &n); err != nil {
			return nil, err
		}
		counts[b] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return binsOf(lo, w, bins, counts), nil
}

// checkHistogram validates the histogram's steps and resolves its bins.
func (p *funnelPlan) checkHistogram(from, to, bins int) (int, error) {
	if p.Order == Unordered {
		return 0, errs.Invalid(funnelOp, "order", "a time-to-convert histogram needs an ORDERED or STRICT funnel")
	}
	if from < 1 || to <= from || to > len(p.Steps) {
		return 0, errs.Invalid(funnelOp, "fromStep", fmt.Sprintf("fromStep %d and toStep %d must satisfy 1 ≤ fromStep < toStep ≤ %d", from, to, len(p.Steps)))
	}
	switch {
	case bins == 0:
		return DefaultBins, nil
	case bins < 1 || bins > MaxBins:
		return 0, errs.Invalid(funnelOp, "bins", fmt.Sprintf("bins %d must be between 1 and %d", bins, MaxBins))
	}
	return bins, nil
}

// binsOf lays out bins of width w ms from lo, with their counts; no data
// (w = 0) is no bins.
func binsOf(lo, w int64, bins int, counts map[int64]int64) []Bin {
	if w == 0 {
		return []Bin{}
	}
	out := make([]Bin, bins)
	for i := range out {
		out[i] = Bin{From: time.Duration(lo+int64(i)*w) * time.Millisecond, To: time.Duration(lo+int64(i+1)*w) * time.Millisecond, Users: counts[int64(i)]}
	}
	return out
}

// FunnelTrend answers the funnel per period of entry (DAY or WEEK in the
// request's zone): for the users whose first step-1 event falls in each
// period, how many reached the last step.
func (s *Service) FunnelTrend(ctx context.Context, r FunnelRequest, grain timerange.Grain) ([]TrendPoint, error) {
	p, scope, err := s.prepareFunnel(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := checkTrendGrain(p, grain); err != nil {
		return nil, err
	}
	fn := map[timerange.Grain]string{timerange.GrainDay: "toStartOfDay", timerange.GrainWeek: "toMonday"}[grain]
	var q sqlText
	q.add("SELECT toUnixTimestamp(toDateTime("+fn+"(toDateTime(fromUnixTimestamp64Milli(entry), ?)), ?)) AS period, count(), countIf(r = ?) FROM (",
		p.loc.String(), p.loc.String(), len(p.Steps))
	p.userSQL(&q, scope, funnelCols{})
	q.add(") GROUP BY period ORDER BY period")
	rows, err := s.query(ctx, q.String(), q.args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TrendPoint
	for rows.Next() {
		var sec, entered, done int64
		if err := rows.Scan(&sec, &entered, &done); err != nil {
			return nil, err
		}
		out = append(out, TrendPoint{Start: time.Unix(sec, 0).In(p.loc), Entered: entered, Completed: done, Rate: ratio(done, entered)})
	}
	return out, rows.Err()
}

func checkTrendGrain(p *funnelPlan, grain timerange.Grain) error {
	if grain != timerange.GrainDay && grain != timerange.GrainWeek {
		return errs.Invalid(funnelOp, "grain", fmt.Sprintf("grain %q: a funnel trend is per DAY or WEEK", grain))
	}
	if n := p.rng.To.Sub(p.rng.From) / (24 * time.Hour); grain == timerange.GrainDay && n > maxTrendBuckets {
		return errs.Invalid(funnelOp, "grain", fmt.Sprintf("grain DAY over %d days is too many points (at most %d); use WEEK", n, maxTrendBuckets))
	}
	return nil
}

// FunnelActors pages through the users who reached a step (or dropped
// after it), by user id.
func (s *Service) FunnelActors(ctx context.Context, r FunnelRequest, a ActorsRequest) (*ActorsPage, error) {
	p, scope, err := s.prepareFunnel(ctx, r)
	if err != nil {
		return nil, err
	}
	first, after, err := p.checkActors(a)
	if err != nil {
		return nil, err
	}
	sql, args := p.actorsSQL(scope, a, after, first+1)
	rows, err := s.query(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := &ActorsPage{Actors: []Actor{}}
	for rows.Next() {
		var act Actor
		var reached uint8
		if err := rows.Scan(&act.UserID, &reached); err != nil {
			return nil, err
		}
		act.Reached = int(reached)
		page.Actors = append(page.Actors, act)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(page.Actors) > first {
		page.Actors, page.HasNext = page.Actors[:first], true
		page.EndCursor = ActorCursor(page.Actors[first-1].UserID)
	}
	return page, nil
}

// checkActors validates a, returning the page size and the decoded cursor.
func (p *funnelPlan) checkActors(a ActorsRequest) (int, string, error) {
	if a.Step < 1 || a.Step > len(p.Steps) {
		return 0, "", errs.Invalid(funnelOp, "step", fmt.Sprintf("step %d must be a step number from 1 to %d", a.Step, len(p.Steps)))
	}
	if a.Dropped && a.Step == len(p.Steps) {
		return 0, "", errs.Invalid(funnelOp, "dropped", "nobody drops after the last step; ask for the users who reached it")
	}
	if a.Value != nil && p.Breakdown == nil {
		return 0, "", errs.Invalid(funnelOp, "breakdownValue", "breakdownValue needs a breakdown")
	}
	first, err := store.PageSize(funnelOp, a.First, DefaultActors, MaxActors)
	if err != nil {
		return 0, "", err
	}
	var after string
	if a.After != "" {
		raw, err := base64.RawURLEncoding.DecodeString(a.After)
		if err != nil || len(raw) == 0 {
			return 0, "", errs.Invalid(funnelOp, "after", "after is not a cursor from a previous page")
		}
		after = string(raw)
	}
	return first, after, nil
}

// ActorCursor is the paging position just after the actor userID.
func ActorCursor(userID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(userID))
}
