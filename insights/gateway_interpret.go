package insights

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/metrics"
)

// madeCall is a metric tool call that succeeded: what the answer rests on.
type madeCall struct {
	tool     string
	args     toolArgs
	evidence string
	period   *Period
	compare  *Period
	pValue   float64 // compare_periods: the change's p-value (NaN when untested)
	// pii are the values of PII dimensions the call returned (redacted in
	// its result); scrub keeps them out of later messages to the model.
	pii []string
}

// callPriority ranks the tools whose call defines the interpretation: the
// driver analysis over a plain query, the last call winning within a rank.
var callPriority = map[string]int{ToolComparePeriods: 4, ToolDetectAnomalies: 3, ToolForecast: 2, ToolQueryMetric: 1, ToolCohortSize: 0}

// interpretation is the gateway answer's interpretation. stated is what
// the model says it answered, in the answer tool's "interpretation"
// argument (the metric tools' arguments: metric, from, to, compare_from,
// compare_to, dimensions, filters), or nil. It is never trusted: the
// result is derived from the metric tool calls that succeeded (the main
// one of the stated metric, or of any metric when none is stated), with
// every part the model stated checked against the tenant's catalog and
// those calls. What does not
// hold is listed in Problems (each lowers the confidence); the
// interpretation shows what was really queried, never the model's word
// alone. The askInsight context qc is held to the same check: its metric
// and filters must be what the main call queried. It also returns the
// p-value and whether a test applied.
func interpretation(stated *toolArgs, defs []*metrics.Definition, made []madeCall, qc Context) (Interpretation, float64, bool) {
	in := Interpretation{Kind: KindModel, Tokens: []Token{}}
	problem := func(format string, a ...any) { in.Problems = append(in.Problems, fmt.Sprintf(format, a...)) }
	byKey := map[string]*metrics.Definition{}
	var keys []string
	for _, d := range defs {
		byKey[d.Key] = d
		keys = append(keys, d.Key)
	}
	if stated == nil {
		stated = &toolArgs{}
		if len(made) > 0 {
			in.Tokens = append(in.Tokens, Token{Text: "(not stated)", Role: "kind", Read: "the model stated no interpretation; derived from its tool calls"})
		}
	}
	var def *metrics.Definition
	if stated.Metric != "" {
		if def = byKey[stated.Metric]; def == nil {
			problem("the answer names metric %q, which is not in the tenant's catalog (%s)", stated.Metric, strings.Join(keys, ", "))
		}
	}
	var main *madeCall
	for i := range made {
		c := &made[i]
		if def != nil && c.args.Metric != def.Key && c.tool != ToolCohortSize {
			continue
		}
		if main == nil || callPriority[c.tool] >= callPriority[main.tool] {
			main = c
		}
	}
	if def != nil && (main == nil || main.tool == ToolCohortSize) {
		problem("the answer names metric %q, but no tool call queried it", def.Key)
	}
	if main != nil && main.tool != ToolCohortSize {
		def = byKey[main.args.Metric]
	}
	if def != nil {
		in.MetricKey, in.MetricName = def.Key, def.Name
		read := def.Key + " (" + def.Name + ")"
		if main != nil && main.tool != ToolCohortSize {
			read += ", queried by " + main.tool + " " + main.evidence
		} else {
			read += ", stated by the model only"
		}
		in.Tokens = append(in.Tokens, Token{Text: def.Key, Role: "metric", Read: read})
	}
	pValue, tested := math.NaN(), false
	if main != nil {
		in.Period, in.Compare = main.period, main.compare
		switch main.tool {
		case ToolComparePeriods:
			in.Kind, pValue, tested = KindWhyChanged, main.pValue, !math.IsNaN(main.pValue)
		case ToolDetectAnomalies:
			in.Kind = KindUnusual
		case ToolForecast:
			in.Kind, in.Horizon = KindForecast, main.args.Horizon
		case ToolCohortSize:
			in.Kind, in.Cohort = KindCohort, main.args.Name
			in.Tokens = append(in.Tokens, Token{Text: main.args.Name, Role: "cohort", Read: "cohort_size " + main.evidence})
		default:
			in.Kind = KindWhatIs
			if len(main.args.Dimensions) > 0 {
				in.Kind, in.Dimension = KindByDimension, strings.Join(main.args.Dimensions, ", ")
			}
		}
		in.Filters = main.args.Filters
		for _, p := range []struct {
			role string
			p    *Period
		}{{"period", main.period}, {"compare", main.compare}} {
			if p.p != nil {
				in.Tokens = append(in.Tokens, Token{Text: p.p.Label, Role: p.role, Read: periodText(*p.p) + ", queried by " + main.evidence})
			}
		}
	}
	checkPeriod := func(role, from, to string, got *Period) {
		if from == "" && to == "" {
			return
		}
		f, ferr := time.Parse(time.DateOnly, from)
		t, terr := time.Parse(time.DateOnly, to)
		switch {
		case ferr != nil || terr != nil || !f.Before(t):
			problem("the stated %s %q–%q is not a range of dates YYYY-MM-DD", role, from, to)
		case got == nil:
			problem("the stated %s %s–%s was not queried by any tool call", role, from, to)
			if main == nil && role == "period" {
				p := Period{From: f, To: t, Label: label(f, t)}
				in.Period = &p
				in.Tokens = append(in.Tokens, Token{Text: p.Label, Role: role, Read: periodText(p) + ", stated by the model only"})
			}
		case !f.Equal(got.From) || !t.Equal(got.To):
			problem("the stated %s %s–%s differs from the %s %s queried by %s", role, from, to, role, periodText(*got), main.evidence)
		}
	}
	checkPeriod("period", stated.From, stated.To, in.Period)
	checkPeriod("compare", stated.CompareFrom, stated.CompareTo, in.Compare)
	var dims []string
	if def != nil {
		for _, d := range def.Dimensions {
			dims = append(dims, d.Path)
		}
	}
	for _, d := range stated.Dimensions {
		switch {
		case def == nil:
			problem("the stated dimension %q has no metric to belong to", d)
		case !slices.Contains(dims, d):
			problem("%q is not a dimension of metric %s (its dimensions: %s)", d, def.Key, strings.Join(dims, ", "))
		case main == nil || main.tool != ToolComparePeriods && !slices.Contains(main.args.Dimensions, d):
			// compare_periods decomposes by every dimension; the others by those asked.
			problem("the stated dimension %q was not queried by any tool call", d)
		default:
			in.Tokens = append(in.Tokens, Token{Text: d, Role: "dimension", Read: "dimension " + d + " of " + def.Key})
		}
	}
	for _, f := range stated.Filters {
		applied := main != nil && slices.ContainsFunc(main.args.Filters, func(c Condition) bool { return conditionEqual(c, f) })
		switch {
		case applied:
		case def == nil || !slices.Contains(dims, f.Dimension):
			problem("the stated filter on %q is not on a dimension of the answered metric", f.Dimension)
		default:
			problem("the stated filter %s %s %s was not applied by any tool call", f.Dimension, f.Op, strings.Join(f.Values, ","))
		}
	}
	if qc.MetricKey != "" && in.MetricKey != "" && qc.MetricKey != in.MetricKey {
		problem("the question's context is metric %s, but the answer is about %s", qc.MetricKey, in.MetricKey)
	}
	for _, f := range qc.Filters {
		if main == nil || !slices.ContainsFunc(main.args.Filters, func(c Condition) bool { return conditionEqual(c, f) }) {
			problem("the context filter %s %s %s was not applied by the answer's tool calls", f.Dimension, f.Op, strings.Join(f.Values, ","))
		}
	}
	for _, f := range in.Filters {
		in.Tokens = append(in.Tokens, Token{Text: f.Dimension + " " + f.Op + " " + strings.Join(f.Values, ","), Role: "filter",
			Read: "filter applied by " + main.evidence})
	}
	return in, pValue, tested
}

// periodText renders [from, to) as dates.
func periodText(p Period) string {
	return p.From.UTC().Format(time.DateOnly) + "–" + p.To.UTC().Format(time.DateOnly)
}

// conditionEqual reports whether two filter conditions are the same.
func conditionEqual(a, b Condition) bool {
	return a.Dimension == b.Dimension && a.Op == b.Op && slices.Equal(a.Values, b.Values)
}
