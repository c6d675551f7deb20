package journeys

import (
	"cmp"
	"slices"
	"time"
)

// RetentionReference evaluates r over events the plain way, user by user.
// Cohorts are not evaluated: pass only the events of the cohorts' members.
func RetentionReference(r RetentionRequest, now time.Time, events []Event) (*RetentionResult, error) {
	p, err := checkRetention(r, now)
	if err != nil {
		return nil, err
	}
	type start struct {
		t     time.Time
		value string
	}
	starts := map[string][]start{}
	returns := map[string]map[int64]bool{}
	for _, e := range events {
		if e.User == "" || !e.At.Before(p.rng.To) {
			continue
		}
		if p.StartEvent.matches(e) && (p.Mode == FirstTime || !e.At.Before(p.rng.From)) {
			v := ""
			if p.Breakdown != nil {
				v = e.Props[p.Breakdown.Property]
			}
			starts[e.User] = append(starts[e.User], start{e.At, v})
		}
		if p.ReturnEvent.matches(e) && !e.At.Before(p.rng.From) {
			if returns[e.User] == nil {
				returns[e.User] = map[int64]bool{}
			}
			returns[e.User][p.periodOf(e.At)] = true
		}
	}
	got := counts{}
	for user, ss := range starts {
		slices.SortFunc(ss, func(a, b start) int { return cmp.Or(a.t.Compare(b.t), cmp.Compare(a.value, b.value)) })
		// The user's cohorts: the first start event of each period (FIRST_TIME:
		// of the first one only, when it is inside the range).
		var cohorts []start
		for i, s := range ss {
			if p.Mode == FirstTime {
				if !s.t.Before(p.rng.From) {
					cohorts = append(cohorts, s)
				}
				break
			}
			if i == 0 || p.periodOf(s.t) != p.periodOf(ss[i-1].t) {
				cohorts = append(cohorts, s)
			}
		}
		for _, s := range cohorts {
			c := p.periodOf(s.t)
			if got[s.value] == nil {
				got[s.value] = map[int64][]int64{}
			}
			row := got[s.value][c]
			if row == nil {
				row = make([]int64, p.Periods+1)
				got[s.value][c] = row
			}
			row[0]++
			for i := 1; i <= p.Periods; i++ {
				back := false
				for j := i; j <= p.Periods && (j == i || p.Cumulative); j++ {
					back = back || returns[user][c+int64(j)]
				}
				if back {
					row[i]++
				}
			}
		}
	}
	return p.assemble(got), nil
}
