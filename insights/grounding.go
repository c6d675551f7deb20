package insights

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// GroundingRules states how numbers are matched; it is returned with every
// grounding so a reader knows what "grounded" means.
const GroundingRules = "Every number in the explanation and findings is checked; dates (2026-03-01, March 2026), " +
	"evidence ids ([E3]) and quoted identifiers that an evidence returned (`demo-course-03`) are not numbers. " +
	"A number written with d decimals matches an evidence value v when |v| rounded half-away to d decimals equals it " +
	"(signs are carried by words: fell, rose); thousands separators are ignored. A percent (or \"points\") also matches " +
	"100·v for values within ±1 (ratios), a derived percent change 100·|a−b|/|b| of two values of the same name in " +
	"two evidences, or a share 100·a/b of a value in a total; a plain number also matches the difference |a−b| of two " +
	"values of the same name in two evidences. A bound \"p < x\" matches a cited p-value below x. Findings are matched " +
	"only against the evidence they cite; the explanation against all evidence."

var (
	codeRe     = regexp.MustCompile("`([^`]*)`")
	evRefRe    = regexp.MustCompile(`\[?\bE\d+\b\]?`)
	isoDateRe  = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)
	monthDayRe = regexp.MustCompile(`(?i)\b(?:january|february|march|april|may|june|july|august|september|october|november|december)(?:\s+\d{1,2}(?:st|nd|rd|th)?\b)?(?:,?\s+\d{4}\b)?`)
	identNumRe = regexp.MustCompile(`\b[A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)+\b`)
	numberRe   = regexp.MustCompile(`([<>≤≥]\s*)?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(\s*%|\s+points?\b)?`)
)

// number is one number found in a text.
type number struct {
	text     string
	value    float64
	decimals int
	percent  bool
	bound    string // "<" or ">" when written as a bound
}

// Ground checks every number of the answer's explanation and findings
// against its evidence and returns the verdict.
func Ground(a *Answer) Grounding {
	g := Grounding{Status: Grounded, Rules: GroundingRules, Grounded: []GroundedValue{}, Ungrounded: []string{}}
	byID := map[string]Evidence{}
	for _, e := range a.Evidence {
		byID[e.ID] = e
	}
	check := func(text string, evs []Evidence) {
		for _, n := range extractNumbers(text, evs) {
			g.Checked++
			if gv, ok := match(n, evs); ok {
				g.Grounded = append(g.Grounded, gv)
				continue
			}
			g.Ungrounded = append(g.Ungrounded, n.text)
		}
	}
	check(a.Explanation, a.Evidence)
	for _, f := range a.Findings {
		var cited []Evidence
		for _, id := range f.Evidence {
			if e, ok := byID[id]; ok {
				cited = append(cited, e)
			}
		}
		check(f.Text, cited)
	}
	if len(g.Ungrounded) > 0 {
		g.Status = Ungrounded
	}
	return g
}

// extractNumbers finds the numbers of text, after removing dates, evidence
// ids and identifiers (quoted ones only when an evidence returned them).
func extractNumbers(text string, evs []Evidence) []number {
	labels := map[string]bool{}
	for _, e := range evs {
		for _, l := range e.Labels {
			labels[l] = true
		}
	}
	text = codeRe.ReplaceAllStringFunc(text, func(s string) string {
		if inner := strings.Trim(s, "`"); labels[inner] {
			return " "
		}
		return " " + strings.Trim(s, "`") + " "
	})
	for _, re := range []*regexp.Regexp{evRefRe, isoDateRe, monthDayRe} {
		text = re.ReplaceAllString(text, " ")
	}
	text = identNumRe.ReplaceAllStringFunc(text, func(s string) string {
		if labels[s] {
			return " "
		}
		return s
	})
	var out []number
	for _, m := range numberRe.FindAllStringSubmatch(text, -1) {
		raw := strings.ReplaceAll(m[2], ",", "")
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			continue
		}
		dec := 0
		if i := strings.IndexByte(raw, '.'); i >= 0 {
			dec = len(raw) - i - 1
		}
		out = append(out, number{text: strings.TrimSpace(m[0]), value: v, decimals: dec, percent: m[3] != "",
			bound: strings.TrimSpace(strings.NewReplacer("≤", "<", "≥", ">").Replace(m[1]))})
	}
	return out
}

// match finds the evidence value n stands for.
func match(n number, evs []Evidence) (GroundedValue, bool) {
	eq := func(v float64) bool { return roundsTo(math.Abs(v), n.value, n.decimals) }
	if n.bound != "" {
		for _, e := range evs {
			for _, v := range e.Values {
				if strings.HasSuffix(v.Name, "p_value") && (n.bound == "<" && v.Value < n.value || n.bound == ">" && v.Value > n.value) {
					return GroundedValue{Text: n.text, Evidence: e.ID, Source: v.Name}, true
				}
			}
		}
		return GroundedValue{}, false
	}
	for _, e := range evs {
		for _, v := range e.Values {
			if eq(v.Value) || n.percent && math.Abs(v.Value) <= 1 && eq(v.Value*100) {
				return GroundedValue{Text: n.text, Evidence: e.ID, Source: v.Name}, true
			}
		}
	}
	// Derived from two cited values.
	type ref struct {
		id, name string
		v        float64
	}
	var all []ref
	for _, e := range evs {
		for _, v := range e.Values {
			all = append(all, ref{e.ID, v.Name, v.Value})
		}
	}
	for _, a := range all {
		for _, b := range all {
			if a == b || b.v == 0 {
				continue
			}
			// Only comparable pairs: the same name in two evidences
			// (a total against a total, a segment in two periods), or a
			// part against a total for a share.
			ok := false
			sameName := a.name == b.name && a.id != b.id
			switch {
			case n.percent:
				ok = sameName && eq(100*(a.v-b.v)/math.Abs(b.v)) || b.name == "total" && eq(100*a.v/b.v)
			case sameName:
				ok = eq(a.v - b.v)
			}
			if ok {
				return GroundedValue{Text: n.text, Evidence: a.id, Source: fmt.Sprintf("%s:%s vs %s:%s", a.id, a.name, b.id, b.name), Derived: true}, true
			}
		}
	}
	return GroundedValue{}, false
}

// roundsTo reports whether v rounded half away from zero to d decimals is x.
func roundsTo(v, x float64, d int) bool {
	scale := math.Pow(10, float64(d))
	return math.Abs(math.Round(v*scale)-math.Round(x*scale)) < 0.5
}
