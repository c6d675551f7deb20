package journeys

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/learnhub/analytics-service/timerange"
)

// PathsReference evaluates r over events the plain way, user by user.
// Cohorts are not evaluated: pass only the events of the cohorts' members.
func PathsReference(r PathsRequest, now time.Time, events []Event) (*PathsResult, error) {
	p, err := checkPaths(r, now)
	if err != nil {
		return nil, err
	}
	if a := r.AfterFunnel; a != nil {
		f := a.Funnel
		if f.TimeRange == (timerange.Spec{}) {
			f.TimeRange = r.TimeRange
		}
		actors, err := FunnelActorsReference(f, now, events, ActorsRequest{Step: a.Step, Dropped: a.Dropped})
		if err != nil {
			return nil, err
		}
		keep := map[string]bool{}
		for _, act := range actors {
			keep[act.UserID] = true
		}
		events = slices.DeleteFunc(slices.Clone(events), func(e Event) bool { return !keep[e.User] })
	}
	type ev struct {
		Event
		anchor bool
	}
	byUser := map[string][]ev{}
	for _, e := range events {
		if e.User == "" || e.At.Before(p.rng.From) || !e.At.Before(p.rng.To) {
			continue
		}
		x := ev{Event: e}
		if m := p.anchor(); m != nil {
			x.anchor = m.matches(e)
		}
		if !x.anchor && (len(p.EventTypes) > 0 && !slices.Contains(p.EventTypes, e.Type) || slices.Contains(p.Exclude, e.Type)) {
			continue
		}
		byUser[e.User] = append(byUser[e.User], x)
	}
	nodeUsers := map[PathNode]map[string]bool{}
	edgeUsers := map[PathEdge]map[string]bool{}
	mark := func(user string, n *PathNode, e *PathEdge) {
		if n != nil {
			if nodeUsers[*n] == nil {
				nodeUsers[*n] = map[string]bool{}
			}
			nodeUsers[*n][user] = true
		} else {
			if edgeUsers[*e] == nil {
				edgeUsers[*e] = map[string]bool{}
			}
			edgeUsers[*e][user] = true
		}
	}
	for user, evs := range byUser {
		slices.SortFunc(evs, func(a, b ev) int {
			return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Session, b.Session), cmp.Compare(b2i(a.anchor), b2i(b.anchor)))
		})
		// Sessions.
		var sessions [][]ev
		for i, e := range evs {
			split := i == 0
			if i > 0 {
				prev := evs[i-1]
				if e.Session != "" && prev.Session != "" {
					split = e.Session != prev.Session
				} else {
					split = e.At.Sub(prev.At) > SessionGap
				}
			}
			if split {
				sessions = append(sessions, nil)
			}
			sessions[len(sessions)-1] = append(sessions[len(sessions)-1], e)
		}
		for _, s := range sessions {
			path := s
			first := slices.IndexFunc(s, func(e ev) bool { return e.anchor })
			switch {
			case p.StartEvent != nil && first < 0, p.EndEvent != nil && first < 0:
				continue
			case p.StartEvent != nil:
				path = s[first:min(len(s), first+p.Steps)]
			case p.EndEvent != nil:
				path = s[max(0, first-p.Steps+1) : first+1]
			default:
				path = s[:min(len(s), p.Steps)]
			}
			base := 0
			if p.EndEvent != nil {
				base = p.Steps - len(path)
			}
			for j, e := range path {
				mark(user, &PathNode{Step: base + j + 1, EventType: e.Type}, nil)
				if j+1 < len(path) {
					mark(user, nil, &PathEdge{Step: base + j + 1, From: e.Type, To: path[j+1].Type})
				}
			}
		}
	}
	nodes := map[PathNode]int64{}
	for n, us := range nodeUsers {
		nodes[n] = int64(len(us))
	}
	var edges []PathEdge
	for _, e := range slices.Collect(maps.Keys(edgeUsers)) {
		e.Users = int64(len(edgeUsers[e]))
		edges = append(edges, e)
	}
	return p.sankey(nodes, edges), nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
