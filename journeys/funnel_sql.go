package journeys

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/learnhub/analytics-service/store"
)

// The funnel compiler. One statement per question; each starts from the
// same per-user subquery (userSQL), which sorts a user's matching events
// into arrays and runs the step state machine over them with array
// functions, one array per step (no per-event lambdas that capture arrays,
// so the cost stays linear in a user's events):
//
//	v_k[i]  start time of an attempt that takes step k at event i, else 0
//	s_k[i]  start time of the attempt standing at step k after event i
//	        (ORDERED: the latest start so far, carried forward and reset by
//	        an exclusion; STRICT: v_k itself, so any event in between ends it)
//	q_k[i]  s_k before event i, after event i's exclusions
//	P_k     the first position where step k is taken (0: never)
//
// The latest start dominates: every continuation open to an earlier start
// is open to a later one, so one state per step is exact. reference.go
// states the same semantics by enumerating chains.

// funnelCols names the per-user columns userSQL returns.
type funnelCols struct {
	hist     bool // h: ms between the histogram's steps, -1 when not reached
	from, to int  // the histogram's steps
}

// noStep is the sort rank of an event that takes no step (after every
// step's rank, 1…MaxSteps; reference.go's sortKey uses 99, same order).
const noStep = 31

// The event key orders a user's events as reference.go's compareItems does
// — time, then the lowest step the event can take, then the mask — in one
// UInt64, so that sorting them is a sort of numbers, not of tuples:
//
//	[ms since the range's start][rank: 5 bits][mask: one bit per step and exclusion]
//
// The mask's low bits are the mask itself, so the state machine tests
// them on the key. SQL masks give exclusion i the bit steps+i (reference.go
// uses exclusionBit+i; both orders agree, the bits keep their sequence).
// When the range is too long for the bits left, the time moves out of the
// key into a tuple (t, key).
const rankBits = 5

// maskBits is the width of the SQL mask.
func (p *funnelPlan) maskBits() int { return len(p.Steps) + len(p.Exclusions) }

// timeShift is the position of the time in the key; packed reports whether
// the range's milliseconds fit above it.
func (p *funnelPlan) timeShift() (shift int, packed bool) {
	shift = rankBits + p.maskBits()
	span := uint64(p.rng.To.Sub(p.rng.From).Milliseconds())
	width := 64
	if p.keyBits > 0 {
		width = p.keyBits
	}
	return shift, bits.Len64(span)+shift <= width
}

// userSQL prints the per-user subquery: user_id, r (steps reached), b
// (breakdown value), d2…dn (ms from step k-1 to k, -1 when not reached),
// entry (unix ms of the first step-1 event) and, when cols.hist, h.
func (p *funnelPlan) userSQL(q *sqlText, scope store.Scope, cols funnelCols) {
	w := p.ConversionWindow.Milliseconds()
	n := len(p.Steps)
	sm := strconv.FormatUint(p.stepMask(), 10)
	shift, packed := p.timeShift()
	// The range's start in unix ms, bound where it is printed.
	from := func() string { return q.bind(p.rng.From.UnixMilli()) }
	q.add("SELECT user_id, ")
	p.scalars(q, cols)
	q.add(" FROM (SELECT user_id, ")
	// ms: the keys in order (the masks in their low bits); ts: their times.
	item := []string{"k"}
	switch {
	case packed:
		if p.Breakdown != nil {
			q.add("arrayMap(x -> x.1, evs) AS ms, ")
		} else {
			q.add("evs AS ms, ")
		}
		q.add("arrayMap(k -> intDiv(k, " + strconv.FormatUint(1<<shift, 10) + ") + " + from() + ", ms) AS ts")
	default:
		item = []string{"t", "k"}
		q.add("arrayMap(x -> x.1, evs) AS ts, arrayMap(x -> x.2, evs) AS ms")
	}
	if p.Breakdown != nil {
		// The value rides along; sorting it too orders ties as the reference does.
		item = append(item, "v")
		fmt.Fprintf(&q.b, ", arrayMap(x -> x.%d, evs) AS vs", len(item))
	}
	p.arrays(q, w)
	sorted := "arraySort(groupArray(" + strings.Join(item, ", ") + "))"
	if len(item) > 1 {
		sorted = "arraySort(groupArray((" + strings.Join(item, ", ") + ")))"
	}
	q.add(" FROM (SELECT user_id, " + sorted + " AS evs")
	q.add(" FROM (SELECT user_id, toUnixTimestamp64Milli(occurred_at) AS t, ")
	// The mask: bit k-1 for step k, bit n+i for exclusion i.
	var parts []string
	for k, s := range p.Steps {
		parts = append(parts, "if("+matchSQL(q, s.Matcher)+", "+strconv.FormatUint(1<<k, 10)+", 0)")
	}
	for i, x := range p.Exclusions {
		parts = append(parts, "if("+matchSQL(q, x.Matcher)+", "+strconv.FormatUint(1<<(n+i), 10)+", 0)")
	}
	q.add("toUInt64(" + strings.Join(parts, " + ") + ") AS m, ")
	fmt.Fprintf(&q.b, "if(bitAnd(m, %s) = 0, %d, bitCount(bitXor(bitAnd(m, %s), bitAnd(m, %s) - 1))) * %d + m", sm, noStep, sm, sm, uint64(1)<<p.maskBits())
	if packed {
		q.add(" + toUInt64(t - " + from() + ") * " + strconv.FormatUint(1<<shift, 10))
	}
	q.add(" AS k")
	if p.Breakdown != nil {
		q.add(", ifNull(" + propertyText(p.Breakdown.Property) + ", '') AS v")
	}
	q.add(" FROM " + store.QuoteIdent(eventsTable) + " FINAL WHERE ")
	eventsWhere(q, scope, p.rng.From, p.rng.To, p.Cohorts)
	switch {
	case p.Order == Strict:
		q.add(")")
	case p.filtered():
		// Only the types the funnel names: the sort key leads with type
		// after the tenant, so the scan skips the rest.
		q.add(" AND type IN ?", p.types())
		q.add(") WHERE m != 0")
	default:
		// Without property filters every row of these types matches a
		// step or an exclusion: no second filter pass over the rows.
		q.add(" AND type IN ?)", p.types())
	}
	q.add(" GROUP BY user_id)) WHERE r > 0")
}

// filtered reports whether a step or an exclusion has property filters.
func (p *funnelPlan) filtered() bool {
	ms, _ := p.matchers()
	for _, m := range ms {
		if len(m.Filters) > 0 {
			return true
		}
	}
	return false
}

// types are the event types of the steps and exclusions, without repeats.
func (p *funnelPlan) types() []string {
	var out []string
	seen := map[string]bool{}
	ms, _ := p.matchers()
	for _, m := range ms {
		if !seen[m.EventType] {
			seen[m.EventType] = true
			out = append(out, m.EventType)
		}
	}
	return out
}

// arrays prints the per-user arrays of the state machine over ms and ts.
func (p *funnelPlan) arrays(q *sqlText, w int64) {
	n := len(p.Steps)
	if p.Order == Unordered {
		// nx_k[i]: the time of the first event at or after i that takes step k.
		for k := 1; k <= n; k++ {
			fmt.Fprintf(&q.b, ", arrayReverseFill(x -> x > 0, arrayMap((m, t) -> if(bitTest(m, %d), t, 0), ms, ts)) AS nx%d", k-1, k)
		}
		return
	}
	for k := 1; k <= n; k++ {
		if k == 1 {
			q.add(", arrayMap((m, t) -> if(bitTest(m, 0), t, 0), ms, ts) AS v1")
		} else {
			fmt.Fprintf(&q.b, ", arrayMap((m, s, t) -> if(bitTest(m, %d) AND s > 0 AND t - s <= ", k-1)
			q.add(q.bind(w))
			fmt.Fprintf(&q.b, ", s, 0), ms, q%d, ts) AS v%d", k-1, k)
		}
		fmt.Fprintf(&q.b, ", arrayFirstIndex(x -> x > 0, v%d) AS P%d", k, k)
		if k == n {
			break // s_n and q_n would feed a next step
		}
		kill := p.killMask(k, n)
		killed := func(m string) string { return "bitAnd(" + m + ", " + strconv.FormatUint(kill, 10) + ") != 0" }
		switch {
		case p.Order == Strict:
			fmt.Fprintf(&q.b, ", v%d AS s%d", k, k)
		case kill != 0:
			// mk_k: events that set s_k (a step taken, or an exclusion resetting it).
			fmt.Fprintf(&q.b, ", arrayMap((x, m) -> x > 0 OR %s, v%d, ms) AS mk%d", killed("m"), k, k)
			fmt.Fprintf(&q.b, ", arrayFill((x, c) -> c, v%d, mk%d) AS s%d", k, k, k)
		default:
			fmt.Fprintf(&q.b, ", arrayFill(x -> x > 0, v%d) AS s%d", k, k)
		}
		switch {
		case p.Order != Strict && p.Steps[k-1].EventType != p.Steps[k].EventType:
			// An event of step k+1's type cannot take step k, so where it
			// could take step k+1, s_k is still the state before it (an
			// exclusion it matches has already reset s_k): no shift.
			fmt.Fprintf(&q.b, ", s%d AS q%d", k, k)
		case kill != 0:
			fmt.Fprintf(&q.b, ", arrayMap((s, m) -> if(%s, 0, s), arrayPushFront(arrayPopBack(s%d), 0), ms) AS q%d", killed("m"), k, k)
		default:
			fmt.Fprintf(&q.b, ", arrayPushFront(arrayPopBack(s%d), 0) AS q%d", k, k)
		}
	}
}

// scalars prints the per-user result columns over the arrays.
func (p *funnelPlan) scalars(q *sqlText, cols funnelCols) {
	n := len(p.Steps)
	sm := strconv.FormatUint(p.stepMask(), 10)
	first := "arrayFirstIndex(m -> bitTest(m, 0), ms)"
	if p.Order == Unordered {
		first = "arrayFirstIndex(m -> bitAnd(m, " + sm + ") != 0, ms)"
		var terms []string
		args := []string{"ms", "ts"}
		for k := 1; k <= n; k++ {
			terms = append(terms, fmt.Sprintf("(n%d > 0 AND n%d - t <= %s)", k, k, q.bind(p.ConversionWindow.Milliseconds())))
			args = append(args, fmt.Sprintf("nx%d", k))
		}
		params := []string{"m", "t"}
		for k := 1; k <= n; k++ {
			params = append(params, fmt.Sprintf("n%d", k))
		}
		q.add("toUInt8(arrayMax(arrayMap((" + strings.Join(params, ", ") + ") -> if(bitAnd(m, " + sm + ") != 0, " +
			strings.Join(terms, " + ") + ", 0), " + strings.Join(args, ", ") + "))) AS r")
	} else {
		var terms []string
		for k := 1; k <= n; k++ {
			terms = append(terms, fmt.Sprintf("(P%d > 0)", k))
		}
		q.add("toUInt8(" + strings.Join(terms, " + ") + ") AS r")
		for k := 2; k <= n; k++ {
			fmt.Fprintf(&q.b, ", if(P%d > 0, ts[P%d] - ts[%s], -1) AS d%d", k, k, p.lastSet(k-1, fmt.Sprintf("P%d", k)), k)
		}
	}
	q.add(", ts[" + first + "] AS entry")
	switch p.attribution() {
	case "":
		q.add(", '' AS b")
	case FirstTouch:
		q.add(", vs[" + first + "] AS b")
	case LastTouch:
		ps := make([]string, n)
		for k := range ps {
			ps[k] = fmt.Sprintf("P%d", k+1)
		}
		q.add(", if(r > 0, vs[[" + strings.Join(ps, ", ") + "][r]], '') AS b")
	case StepTouch:
		fmt.Fprintf(&q.b, ", if(P%d > 0, vs[P%d], '') AS b", p.Breakdown.Step, p.Breakdown.Step)
	}
	if cols.hist {
		// Walk the attempt that first took step `to` back to step `from`.
		pos := fmt.Sprintf("P%d", cols.to)
		for k := cols.to - 1; k >= cols.from; k-- {
			pos = p.lastSet(k, pos)
		}
		fmt.Fprintf(&q.b, ", if(P%d > 0, ts[P%d] - ts[%s], -1) AS h", cols.to, cols.to, pos)
	}
}

// lastSet is the position of the last event before position `before` (an
// expression) that set s_k: the step k-1 event of the attempt that took
// step k+1 at `before`. (When that attempt is valid, the last event that
// set s_k took step k: an exclusion reset would have made it invalid.)
func (p *funnelPlan) lastSet(k int, before string) string {
	switch {
	case p.Order == Strict:
		return "(" + before + " - 1)"
	case p.killMask(k, len(p.Steps)) != 0:
		return fmt.Sprintf("arrayLastIndex(x -> x, arraySlice(mk%d, 1, %s - 1))", k, before)
	}
	return fmt.Sprintf("arrayLastIndex(x -> x > 0, arraySlice(v%d, 1, %s - 1))", k, before)
}

// funnelSQL prints the funnel statement. Without a breakdown it returns one
// row: c1…cn (users reaching each step) then, per step k ≥ 2, the median
// and p90 ms from step k-1. With one, rows of (bb, total, c…, quantiles…):
// bb is the value (NULL for other), total 1 on the grand total row.
func (p *funnelPlan) funnelSQL(scope store.Scope) (string, []any) {
	var q sqlText
	n := len(p.Steps)
	var counts, states, merges []string
	for k := 1; k <= n; k++ {
		counts = append(counts, fmt.Sprintf("countIf(r >= %d) AS c%d", k, k))
		if k >= 2 && p.Order != Unordered {
			states = append(states, fmt.Sprintf("quantilesExactIfState(0.5, 0.9)(d%d, r >= %d) AS st%d", k, k, k))
			merges = append(merges, fmt.Sprintf("quantilesExactIfMerge(0.5, 0.9)(st%d) AS mq%d, mq%d[1], mq%d[2]", k, k, k, k))
		}
	}
	if p.Breakdown == nil {
		q.add("SELECT " + strings.Join(counts, ", "))
		for k := 2; k <= n && p.Order != Unordered; k++ {
			fmt.Fprintf(&q.b, ", quantilesExactIf(0.5, 0.9)(d%d, r >= %d) AS mq%d, mq%d[1], mq%d[2]", k, k, k, k, k)
		}
		q.add(" FROM (")
		p.userSQL(&q, scope, funnelCols{})
		q.add(")")
		return q.String(), q.args
	}
	sums := make([]string, n)
	for k := range sums {
		sums[k] = fmt.Sprintf("sum(c%d)", k+1)
	}
	q.add("SELECT if(rk <= " + q.bind(p.topN) + ", toNullable(b), NULL) AS bb, grouping(bb) AS total, " + strings.Join(sums, ", "))
	if len(merges) > 0 {
		q.add(", " + strings.Join(merges, ", "))
	}
	q.add(" FROM (SELECT b, " + strings.Join(append(counts, states...), ", ") + ", row_number() OVER (ORDER BY c1 DESC, b) AS rk FROM (")
	p.userSQL(&q, scope, funnelCols{})
	q.add(") GROUP BY b) GROUP BY ROLLUP(bb) ORDER BY total DESC, sum(c1) DESC, bb")
	return q.String(), q.args
}
