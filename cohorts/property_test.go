package cohorts_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/metrics/metricstest"
)

// propTypes are the event types of the property test.
var propTypes = []string{"user.login", "lesson.completed", "quiz.submitted", "video.watched"}

// TestCriteriaMatchAPlainEvaluator is a property test: random criteria
// (every node kind, catalog metrics included) over random events give the
// same members in SQL as a plain Go evaluation of the same events.
func TestCriteriaMatchAPlainEvaluator(t *testing.T) {
	db, svc, _ := setup(t)
	ctx := metricstest.As("p")
	rng := rand.New(rand.NewPCG(7, 11))
	evs := randomEvents(rng, 600)
	insert(t, db, "p", evs...)
	insert(t, db, "other", ev{"u01", "quiz.submitted", "c1", t0.Add(-time.Hour), map[string]any{"score": 5}})
	users := len(goMembers(evs, cohorts.Criteria{LastSeen: &cohorts.Seen{After: "1000d"}}))
	partial := 0
	for i := range 70 {
		crit := randomCriteria(rng, 0)
		for i >= 50 { // the last 20 cases: trees that scan only their event types
			if _, ok := cohorts.Narrowing(crit); ok {
				break
			}
			crit = randomCriteria(rng, 0)
		}
		if n := len(goMembers(evs, crit)); n > 0 && n < users {
			partial++
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c, err := svc.Create(ctx, cohorts.Cohort{Name: fmt.Sprintf("r%d", i), Criteria: &crit})
			require.NoError(t, err)
			_, err = svc.Evaluate(ctx, c.ID, t0)
			require.NoError(t, err)
			got, _, err := svc.Members(ctx, c.ID, 500, "")
			require.NoError(t, err)
			assert.Equal(t, goMembers(evs, crit), got, "criteria %s", describe(crit))
		})
	}
	assert.Greater(t, partial, 25, "most cases must split the users, or the comparison proves little")
}

// randomEvents makes n events of 30 users over 90 days, at distinct
// instants (so "latest value" has no ties), with optional properties.
func randomEvents(rng *rand.Rand, n int) []ev {
	plans := []string{"free", "pro", "team"}
	out := make([]ev, n)
	for i := range out {
		e := ev{user: fmt.Sprintf("u%02d", rng.IntN(30)), typ: propTypes[rng.IntN(len(propTypes))], course: fmt.Sprintf("c%d", rng.IntN(3)),
			at: t0.Add(-time.Duration(rng.IntN(90*24))*time.Hour - time.Duration(i)*time.Second), props: map[string]any{}}
		switch e.typ {
		case "quiz.submitted":
			if rng.IntN(5) > 0 {
				e.props["score"] = rng.IntN(100)
			}
		case "video.watched":
			e.props["seconds"] = []int{30, 90, 300, 600}[rng.IntN(4)]
		}
		if rng.IntN(3) == 0 {
			e.props["plan"] = plans[rng.IntN(len(plans))]
		}
		if rng.IntN(3) == 0 {
			e.props["level"] = 1 + rng.IntN(5)
		}
		out[i] = e
	}
	return out
}

func randomCriteria(rng *rand.Rand, depth int) cohorts.Criteria {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	k := rng.IntN(10)
	if depth >= 2 {
		k = 3 + rng.IntN(7)
	}
	switch k {
	case 0:
		return cohorts.Criteria{And: []cohorts.Criteria{randomCriteria(rng, depth+1), randomCriteria(rng, depth+1)}}
	case 1:
		return cohorts.Criteria{Or: []cohorts.Criteria{randomCriteria(rng, depth+1), randomCriteria(rng, depth+1)}}
	case 2:
		c := randomCriteria(rng, depth+1)
		return cohorts.Criteria{Not: &c}
	case 3:
		return cohorts.Criteria{FirstSeen: &cohorts.Seen{Before: fmt.Sprintf("%dd", 1+rng.IntN(80))}}
	case 4:
		return cohorts.Criteria{LastSeen: &cohorts.Seen{After: fmt.Sprintf("%dd", 1+rng.IntN(30))}}
	case 5:
		p := randomPerformed(rng)
		p.Op, p.Count = "", 0
		return cohorts.Criteria{DidNotPerform: p}
	case 6:
		p := cohorts.PropertyValue{Property: pick("plan", "level"), Op: pick("eq", "neq", "gt", "<=")}
		if p.Property == "plan" && (p.Op == "eq" || p.Op == "neq") {
			p.Value = pick("free", "pro", "team")
		} else {
			p.Value = strconv.Itoa(1 + rng.IntN(5))
		}
		if rng.IntN(2) == 0 {
			p.Type = pick(propTypes...)
		}
		return cohorts.Criteria{Property: &p}
	case 7:
		m := cohorts.MetricThreshold{Op: pick("gte", ">", "<", "lte")}
		switch m.Key = pick("quiz_submissions", "quiz_passes", "avg_quiz_score", "learning_minutes"); m.Key {
		case "avg_quiz_score":
			m.Value = float64(20 + rng.IntN(60))
		case "learning_minutes":
			m.Value = []float64{4.2, 7.7, 12.3, 20.1}[rng.IntN(4)]
		default:
			m.Value = float64(rng.IntN(4))
		}
		setWindow(rng, &m.Within, &m.Between)
		return cohorts.Criteria{Metric: &m}
	default:
		return cohorts.Criteria{Performed: randomPerformed(rng)}
	}
}

func randomPerformed(rng *rand.Rand) *cohorts.Performed {
	p := &cohorts.Performed{Type: propTypes[rng.IntN(len(propTypes))], Op: []string{"gte", "gt", "eq", "lt", "lte", ">=", "<"}[rng.IntN(7)], Count: rng.IntN(4)}
	setWindow(rng, &p.Within, &p.Between)
	switch rng.IntN(4) {
	case 0:
		p.Where = map[string]string{"course_id": fmt.Sprintf("c%d", rng.IntN(3))}
	case 1:
		p.Filters = []cohorts.PropertyFilter{{Property: "level", Op: []string{"gt", "lte", "neq"}[rng.IntN(3)], Value: strconv.Itoa(1 + rng.IntN(5))}}
	case 2:
		p.Filters = []cohorts.PropertyFilter{{Property: "plan", Op: "contains", Value: []string{"r", "ea", "f"}[rng.IntN(3)]}}
	}
	return p
}

func setWindow(rng *rand.Rand, within *string, between **cohorts.Between) {
	switch rng.IntN(3) {
	case 0:
		*within = fmt.Sprintf("%dd", 1+rng.IntN(60))
	case 1:
		from := t0.Add(-time.Duration(10+rng.IntN(80)) * 24 * time.Hour)
		to := from.Add(time.Duration(1+rng.IntN(40)) * 24 * time.Hour)
		*between = &cohorts.Between{From: from.Format(time.RFC3339), To: to.Format(time.RFC3339)}
	}
}

// goMembers evaluates crit over evs the plain way: per user.
func goMembers(evs []ev, crit cohorts.Criteria) []string {
	byUser := map[string][]ev{}
	for _, e := range evs {
		byUser[e.user] = append(byUser[e.user], e)
	}
	out := []string{}
	for u, es := range byUser {
		if match(es, crit) {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

func back(w string) time.Time {
	n, _ := strconv.Atoi(strings.TrimSuffix(w, "d"))
	return t0.Add(-time.Duration(n) * 24 * time.Hour)
}

func inWindow(e ev, within string, between *cohorts.Between) bool {
	switch {
	case within != "":
		return !e.at.Before(back(within))
	case between != nil:
		from, _ := time.Parse(time.RFC3339, between.From)
		to, _ := time.Parse(time.RFC3339, between.To)
		return !e.at.Before(from) && e.at.Before(to)
	}
	return true
}

// text is a property as the engine reads it as text; ok false when absent.
func text(e ev, name string) (string, bool) {
	if name == "course_id" {
		return e.course, true
	}
	v, ok := e.props[name]
	if !ok {
		return "", false
	}
	return fmt.Sprint(v), true
}

// holds compares text with value under op (eq/neq/contains: text; else numbers).
func holds(s, op, value string) bool {
	switch op {
	case "eq", "=":
		return s == value
	case "neq", "!=":
		return s != value
	case "contains":
		return strings.Contains(s, value)
	}
	a, err1 := strconv.ParseFloat(s, 64)
	b, err2 := strconv.ParseFloat(value, 64)
	return err1 == nil && err2 == nil && cmp(a, op, b)
}

func cmp(a float64, op string, b float64) bool {
	switch op {
	case "gt", ">":
		return a > b
	case "eq", "=":
		return a == b
	case "lt", "<":
		return a < b
	case "lte", "<=":
		return a <= b
	default:
		return a >= b
	}
}

func countMatching(es []ev, p *cohorts.Performed) int {
	n := 0
	for _, e := range es {
		ok := e.typ == p.Type && inWindow(e, p.Within, p.Between)
		for k, v := range p.Where {
			s, has := text(e, k)
			ok = ok && has && s == v
		}
		for _, f := range p.Filters {
			s, has := text(e, f.Property)
			ok = ok && has && holds(s, f.Op, f.Value)
		}
		if ok {
			n++
		}
	}
	return n
}

func match(es []ev, c cohorts.Criteria) bool {
	switch {
	case len(c.And) > 0:
		return match(es, c.And[0]) && match(es, c.And[1])
	case len(c.Or) > 0:
		return match(es, c.Or[0]) || match(es, c.Or[1])
	case c.Not != nil:
		return !match(es, *c.Not)
	case c.FirstSeen != nil:
		first := es[0].at
		for _, e := range es {
			if e.at.Before(first) {
				first = e.at
			}
		}
		return first.Before(back(c.FirstSeen.Before))
	case c.LastSeen != nil:
		last := es[0].at
		for _, e := range es {
			if e.at.After(last) {
				last = e.at
			}
		}
		return !last.Before(back(c.LastSeen.After))
	case c.DidNotPerform != nil:
		return countMatching(es, c.DidNotPerform) == 0
	case c.Property != nil:
		p := c.Property
		var latest *ev
		for i, e := range es {
			if _, has := text(e, p.Property); has && (p.Type == "" || e.typ == p.Type) && (latest == nil || e.at.After(latest.at)) {
				latest = &es[i]
			}
		}
		if latest == nil {
			return false
		}
		s, _ := text(*latest, p.Property)
		return holds(s, p.Op, p.Value)
	case c.Metric != nil:
		return metricHolds(es, c.Metric)
	default:
		return cmp(float64(countMatching(es, c.Performed)), c.Performed.Op, float64(c.Performed.Count))
	}
}

// metricHolds mirrors the catalog metrics the property test uses.
func metricHolds(es []ev, m *cohorts.MetricThreshold) bool {
	var vals []float64
	n := 0
	for _, e := range es {
		if !inWindow(e, m.Within, m.Between) {
			continue
		}
		switch m.Key {
		case "quiz_submissions":
			if e.typ == "quiz.submitted" {
				n++
			}
		case "quiz_passes":
			if s, ok := e.props["score"]; ok && e.typ == "quiz.submitted" && s.(int) >= 60 {
				n++
			}
		case "avg_quiz_score":
			if s, ok := e.props["score"]; ok && e.typ == "quiz.submitted" {
				vals = append(vals, float64(s.(int)))
			}
		case "learning_minutes":
			if s, ok := e.props["seconds"]; ok && e.typ == "video.watched" {
				vals = append(vals, float64(s.(int))*(1.0/60))
			}
		}
	}
	switch m.Key {
	case "quiz_submissions", "quiz_passes":
		return cmp(float64(n), m.Op, m.Value)
	case "learning_minutes":
		sum := 0.0
		for _, v := range vals {
			sum += v
		}
		return cmp(sum, m.Op, m.Value)
	}
	if len(vals) == 0 {
		return false
	}
	sum := 0.0
	for _, v := range vals {
		sum += v
	}
	avg := sum / float64(len(vals))
	return !math.IsNaN(avg) && cmp(avg, m.Op, m.Value)
}

// describe prints a criteria tree for failure messages.
func describe(c cohorts.Criteria) string {
	raw, _ := json.Marshal(c)
	return string(raw)
}
