package journeys

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// pathsOp names the operation of paths errors.
const pathsOp = "journeys.paths"

// defaultPathSteps is a path's length when the request leaves it 0.
const defaultPathSteps = 5

// PathsRequest is a paths query: what users do after an event (StartEvent),
// before one (EndEvent), or from the start of their sessions (neither).
type PathsRequest struct {
	StartEvent *Matcher
	EndEvent   *Matcher
	Steps      int      // events per path, 2–10; 0 means 5
	EventTypes []string // only these types (the anchor's always); empty means all
	Exclude    []string // never these types
	// MinEdgeUsers drops edges with fewer users; 0 means 1.
	MinEdgeUsers int
	// MaxEdges keeps the edges with the most users; 0 means DefaultMaxEdges.
	MaxEdges  int
	TimeRange timerange.Spec
	Cohorts   []string // only users in any of these cohorts
	// AfterFunnel keeps only the users of one funnel step; without
	// StartEvent and EndEvent the paths start at that step's event: what
	// learners did after dropping off at step k.
	AfterFunnel *FunnelStepUsers
}

// FunnelStepUsers picks a funnel step's users as FunnelActors does: those
// who reached Step (1-based) or, with Dropped, reached it and not the next.
type FunnelStepUsers struct {
	Funnel  FunnelRequest // a zero TimeRange means the paths' range
	Step    int
	Dropped bool
}

// PathNode is an event type at one step of the paths.
type PathNode struct {
	Step      int // 1-based; with EndEvent the end is at step Steps
	EventType string
	Users     int64 // distinct users with a path through this node
}

// PathEdge is a move from one event type at Step to the next at Step+1.
type PathEdge struct {
	Step     int
	From, To string
	Users    int64 // distinct users with a path through this edge
}

// PathsResult is a Sankey: the kept edges and the nodes they join.
type PathsResult struct {
	Nodes []PathNode
	Edges []PathEdge
}

// pathsPlan is a checked PathsRequest.
type pathsPlan struct {
	PathsRequest
	rng      timerange.Range
	minUsers int64
	maxEdges int
	after    *funnelPlan // the funnel of AfterFunnel
}

// checkPaths validates r and resolves its range against now.
func checkPaths(r PathsRequest, now time.Time) (*pathsPlan, error) {
	p := &pathsPlan{PathsRequest: r, minUsers: int64(r.MinEdgeUsers), maxEdges: r.MaxEdges}
	if r.StartEvent != nil && r.EndEvent != nil {
		return nil, errs.Invalid(pathsOp, "endEvent", "give startEvent or endEvent, not both")
	}
	if r.StartEvent != nil {
		if err := checkMatcher(pathsOp, *r.StartEvent, "startEvent"); err != nil {
			return nil, err
		}
	}
	if r.EndEvent != nil {
		if err := checkMatcher(pathsOp, *r.EndEvent, "endEvent"); err != nil {
			return nil, err
		}
	}
	switch {
	case r.Steps == 0:
		p.Steps = defaultPathSteps
	case r.Steps < 2 || r.Steps > MaxPathSteps:
		return nil, errs.Invalid(pathsOp, "steps", fmt.Sprintf("steps %d must be between 2 and %d", r.Steps, MaxPathSteps))
	}
	for field, types := range map[string][]string{"eventTypes": r.EventTypes, "exclude": r.Exclude} {
		if len(types) > 100 {
			return nil, errs.Invalid(pathsOp, field, fmt.Sprintf("%s: at most 100 types", field))
		}
		for i, t := range types {
			if !eventTypeRe.MatchString(t) {
				return nil, errs.Invalid(pathsOp, fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("%s[%d] %q is not an event type such as lesson.completed", field, i, t))
			}
		}
	}
	switch {
	case r.MinEdgeUsers == 0:
		p.minUsers = 1
	case r.MinEdgeUsers < 0:
		return nil, errs.Invalid(pathsOp, "minEdgeUsers", "minEdgeUsers must be 0 or more")
	}
	switch {
	case r.MaxEdges == 0:
		p.maxEdges = DefaultMaxEdges
	case r.MaxEdges < 1 || r.MaxEdges > MaxEdgesLimit:
		return nil, errs.Invalid(pathsOp, "maxEdges", fmt.Sprintf("maxEdges %d must be between 1 and %d", r.MaxEdges, MaxEdgesLimit))
	}
	if err := checkCohorts(pathsOp, r.Cohorts); err != nil {
		return nil, err
	}
	if err := p.checkAfterFunnel(now); err != nil {
		return nil, err
	}
	rng, err := timerange.Resolve(r.TimeRange, now, "timeRange")
	if err != nil {
		return nil, err
	}
	p.rng = rng
	return p, nil
}

// anchor is the start or end matcher, nil for session starts.
func (p *pathsPlan) anchor() *Matcher {
	if p.StartEvent != nil {
		return p.StartEvent
	}
	return p.EndEvent
}

// pathsSQL prints the statement: rows of (kind 0 node / 1 edge, step,
// type, next type, users).
func (p *pathsPlan) pathsSQL(scope store.Scope) (string, []any) {
	var q sqlText
	steps := strconv.Itoa(p.Steps)
	// Per path: the nodes (0, step, type, '') and edges (1, step, type, next).
	base := "0"
	if p.EndEvent != nil {
		base = steps + " - length(path)"
	}
	items := "arrayConcat(arrayMap((x, j) -> (0, " + base + " + j, x.2, ''), path, arrayEnumerate(path)), " +
		"arrayMap((x, y, j) -> (1, " + base + " + j, x.2, y.2), arrayPopBack(path), arrayPopFront(path), arrayEnumerate(arrayPopBack(path))))"
	var cut string
	switch {
	case p.StartEvent != nil:
		cut = "arrayMap(s -> arraySlice(s, arrayFirstIndex(x -> x.4 = 1, s), " + steps + "), arrayFilter(s -> arrayExists(x -> x.4 = 1, s), sessions))"
	case p.EndEvent != nil:
		cut = "arrayMap(s -> arraySlice(s, greatest(1, arrayFirstIndex(x -> x.4 = 1, s) - " + steps + " + 1), least(arrayFirstIndex(x -> x.4 = 1, s), " + steps + ")), " +
			"arrayFilter(s -> arrayExists(x -> x.4 = 1, s), sessions))"
	default:
		cut = "arrayMap(s -> arraySlice(s, 1, " + steps + "), sessions)"
	}
	q.add("SELECT it.1 AS kind, it.2 AS step, it.3 AS a, it.4 AS b, count() AS users FROM (SELECT arrayDistinct(arrayFlatten(arrayMap(path -> " + items + ", " + cut + "))) AS items")
	// Sessions: a change of session_id when both events carry one, else a gap over SessionGap.
	q.add(" FROM (SELECT arraySplit((x, f) -> f, evs, arrayMap((x, y) -> if(x.3 != '' AND y.3 != '', x.3 != y.3, x.1 - y.1 > " +
		q.bind(SessionGap.Milliseconds()) + "), evs, arrayPushFront(arrayPopBack(evs), evs[1]))) AS sessions")
	q.add(" FROM (SELECT user_id, arraySort(groupArray((t, type, session_id, a))) AS evs FROM (SELECT user_id, toUnixTimestamp64Milli(occurred_at) AS t, type, session_id, ")
	if m := p.anchor(); m != nil {
		q.add("toUInt8(" + matchSQL(&q, *m) + ") AS a")
	} else {
		q.add("toUInt8(0) AS a")
	}
	q.add(" FROM " + store.QuoteIdent(eventsTable) + " FINAL WHERE ")
	eventsWhere(&q, scope, p.rng.From, p.rng.To, p.Cohorts)
	if a := p.AfterFunnel; a != nil {
		q.add(" AND user_id IN (SELECT user_id FROM (")
		p.after.stepUsersSQL(&q, scope, ActorsRequest{Step: a.Step, Dropped: a.Dropped})
		q.add("))")
	}
	keep := ""
	if len(p.EventTypes) > 0 {
		keep += " AND (type IN " + q.bind(slices.Clone(p.EventTypes)) + " OR a = 1)"
	}
	if len(p.Exclude) > 0 {
		keep += " AND (type NOT IN " + q.bind(slices.Clone(p.Exclude)) + " OR a = 1)"
	}
	q.add(") WHERE 1" + keep + " GROUP BY user_id))) ARRAY JOIN items AS it GROUP BY kind, step, a, b HAVING kind = 0 OR users >= ")
	q.add(q.bind(p.minUsers))
	return q.String(), q.args
}

// Paths answers a paths query for the caller's tenant.
func (s *Service) Paths(ctx context.Context, r PathsRequest) (*PathsResult, error) {
	p, scope, err := s.preparePaths(ctx, r)
	if err != nil {
		return nil, err
	}
	sql, args := p.pathsSQL(scope)
	rows, err := s.query(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	nodes := map[PathNode]int64{}
	var edges []PathEdge
	for rows.Next() {
		var kind uint8
		var step int64
		var a, b string
		var users int64
		if err := rows.Scan(&kind, &step, &a, &b, &users); err != nil {
			return nil, err
		}
		if kind == 0 {
			nodes[PathNode{Step: int(step), EventType: a}] = users
		} else {
			edges = append(edges, PathEdge{Step: int(step), From: a, To: b, Users: users})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return p.sankey(nodes, edges), nil
}

// sankey keeps the maxEdges edges with the most users (ties by step and
// names) and the nodes they join, ordered by step then users.
func (p *pathsPlan) sankey(nodes map[PathNode]int64, edges []PathEdge) *PathsResult {
	slices.SortFunc(edges, func(a, b PathEdge) int {
		return cmp.Or(cmp.Compare(b.Users, a.Users), cmp.Compare(a.Step, b.Step), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	res := &PathsResult{Nodes: []PathNode{}, Edges: []PathEdge{}}
	seen := map[PathNode]bool{}
	for _, e := range edges {
		if e.Users < p.minUsers || len(res.Edges) == p.maxEdges {
			continue
		}
		res.Edges = append(res.Edges, e)
		for _, n := range []PathNode{{Step: e.Step, EventType: e.From}, {Step: e.Step + 1, EventType: e.To}} {
			if !seen[n] {
				seen[n] = true
				n.Users = nodes[n]
				res.Nodes = append(res.Nodes, n)
			}
		}
	}
	slices.SortFunc(res.Nodes, func(a, b PathNode) int {
		return cmp.Or(cmp.Compare(a.Step, b.Step), cmp.Compare(b.Users, a.Users), cmp.Compare(a.EventType, b.EventType))
	})
	return res
}
