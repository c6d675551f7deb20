package insights_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/learnhub/analytics-service/insights"
)

func TestGround(t *testing.T) {
	evs := []insights.Evidence{
		{ID: "E1", Values: []insights.Value{{Name: "total", Value: 235}}, Labels: []string{"demo-course-01"}},
		{ID: "E2", Values: []insights.Value{{Name: "total", Value: 100}, {Name: "demo-course-01", Value: 29}}},
		{ID: "E3", Values: []insights.Value{{Name: "rate", Value: 0.4123}, {Name: "p_value", Value: 1e-9}, {Name: "mean", Value: 71.96}}},
	}
	for _, tc := range []struct {
		name, text string
		findings   []insights.Finding
		ungrounded []string
	}{
		{name: "cited values", text: "fell from **235** to **100** [E1, E2]"},
		{name: "thousands and rounding", text: "a mean of 72.0 and 72, rate 41.2% or 41%"},
		{name: "derived percent change of the same value", text: "a change of minus 57.4%"},
		{name: "share of a total", text: "`demo-course-01` had 29.0% of them"},
		{name: "difference of the same value", text: "135 fewer"},
		{name: "dates, months and ids are not numbers", text: "in March 2026 (2026-03-01 – 2026-03-31), March 5, [E3]"},
		{name: "p bound", text: "significant (p < 0.001)"},
		{name: "invented number", text: "fell from 235 to 99", ungrounded: []string{"99"}},
		{name: "invented percent", text: "a drop of 61.0%", ungrounded: []string{"61.0%"}},
		{name: "more decimals than the value rounds to", text: "235.4", ungrounded: []string{"235.4"}},
		{name: "a p bound that does not hold", text: "p > 0.5", ungrounded: []string{"> 0.5"}},
		{name: "numbers inside an unknown code span are checked", text: "`course-77` has 7", ungrounded: []string{"77", "7"}},
		{name: "an identifier with digits is not a number when returned", text: "demo-course-01 leads"},
		{name: "a finding is held to the evidence it cites",
			findings: []insights.Finding{{Text: "235 completions", Evidence: []string{"E2"}}}, ungrounded: []string{"235"}},
		{name: "a finding citing the right evidence",
			findings: []insights.Finding{{Text: "235 completions", Evidence: []string{"E1"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := insights.Ground(&insights.Answer{Explanation: tc.text, Findings: tc.findings, Evidence: evs})
			if tc.ungrounded == nil {
				tc.ungrounded = []string{}
			}
			assert.Equal(t, tc.ungrounded, g.Ungrounded)
			want := insights.Grounded
			if len(tc.ungrounded) > 0 {
				want = insights.Ungrounded
			}
			assert.Equal(t, want, g.Status)
			assert.NotEmpty(t, g.Rules)
		})
	}
}
