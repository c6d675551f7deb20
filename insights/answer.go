package insights

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// modelAnswer is the gateway model's final answer after the server's checks.
type modelAnswer struct {
	// Interpretation is what the model says it answered (nil when it does
	// not say); interpretation checks it.
	Interpretation *toolArgs
	Explanation    string
	Findings       []Finding
	Charts         []Chart
}

// answerArgs are the arguments of the answer tool as the model writes them.
type answerArgs struct {
	Interpretation *toolArgs `json:"interpretation"`
	Explanation    string    `json:"explanation"`
	Findings       []struct {
		Text     string   `json:"text"`
		Evidence []string `json:"evidence"`
	} `json:"findings"`
	Charts []struct {
		Type     string   `json:"type"`
		Title    string   `json:"title"`
		Evidence string   `json:"evidence"`
		Values   []string `json:"values"`
	} `json:"charts"`
}

// parseAnswer checks the answer tool's arguments against the evidence of
// the session: every finding cites at least one evidence id that a tool
// call produced, and every chart draws values of one such evidence, by
// name, so its data is the tool's and never the model's. The chart data
// is copied from the evidence here. An error says what to change; it goes
// back to the model for repair.
func parseAnswer(raw string, evidence []Evidence) (*modelAnswer, error) {
	const op = "insights.answer"
	var a answerArgs
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		return nil, errs.Invalid(op, "answer", "the answer arguments are not the JSON object the answer tool describes: "+err.Error())
	}
	if strings.TrimSpace(a.Explanation) == "" {
		return nil, errs.Invalid(op, "explanation", "explanation is empty; write the answer in Markdown")
	}
	byID := map[string]*Evidence{}
	var ids []string
	for i := range evidence {
		if evidence[i].Error == "" {
			byID[evidence[i].ID] = &evidence[i]
			ids = append(ids, evidence[i].ID)
		}
	}
	known := "no tool call has produced evidence yet; call tools first"
	if len(ids) > 0 {
		known = "cite one of " + strings.Join(ids, ", ")
	}
	out := &modelAnswer{Interpretation: a.Interpretation, Explanation: a.Explanation, Findings: []Finding{}, Charts: []Chart{}}
	for i, f := range a.Findings {
		if strings.TrimSpace(f.Text) == "" {
			return nil, errs.Invalid(op, "findings", fmt.Sprintf("finding %d has no text", i+1))
		}
		if len(f.Evidence) == 0 {
			return nil, errs.Invalid(op, "findings", fmt.Sprintf("finding %d cites no evidence; %s", i+1, known))
		}
		for _, id := range f.Evidence {
			if byID[id] == nil {
				return nil, errs.Invalid(op, "findings", fmt.Sprintf("finding %d cites %q, which no tool call produced; %s", i+1, id, known))
			}
		}
		out.Findings = append(out.Findings, Finding{Text: f.Text, Evidence: slices.Clone(f.Evidence)})
	}
	for i, c := range a.Charts {
		if !slices.Contains([]string{"line", "bar", "table"}, c.Type) {
			return nil, errs.Invalid(op, "charts", fmt.Sprintf("chart %d has type %q; use line, bar or table", i+1, c.Type))
		}
		ev := byID[c.Evidence]
		if ev == nil {
			return nil, errs.Invalid(op, "charts", fmt.Sprintf("chart %d draws evidence %q, which no tool call produced; %s", i+1, c.Evidence, known))
		}
		names := c.Values
		if len(names) == 0 {
			// Every value but the total, unless the total is all there is.
			for _, v := range ev.Values {
				if v.Name != "total" || len(ev.Values) == 1 {
					names = append(names, v.Name)
				}
			}
		}
		if len(names) == 0 || len(names) > maxChartPoints {
			return nil, errs.Invalid(op, "charts", fmt.Sprintf("chart %d would have %d points; name 1 to %d values of %s", i+1, len(names), maxChartPoints, ev.ID))
		}
		series := ChartSeries{Name: c.Title}
		for _, n := range names {
			j := slices.IndexFunc(ev.Values, func(v Value) bool { return v.Name == n })
			if j < 0 {
				return nil, errs.Invalid(op, "charts", fmt.Sprintf("chart %d: %s has no value %q; its values are %s", i+1, ev.ID, n, valueNames(ev.Values, 20)))
			}
			series.X, series.Y = append(series.X, n), append(series.Y, ev.Values[j].Value)
		}
		x := "day"
		for _, n := range series.X {
			if _, err := time.Parse(time.DateOnly, n); err != nil {
				x = "value"
			}
		}
		out.Charts = append(out.Charts, Chart{Type: c.Type, Title: c.Title, X: x, Series: []ChartSeries{series}, Evidence: ev.ID})
	}
	return out, nil
}

// valueNames lists up to n value names for a message.
func valueNames(vs []Value, n int) string {
	var names []string
	for i, v := range vs {
		if i == n {
			names = append(names, "…")
			break
		}
		names = append(names, strconv.Quote(v.Name))
	}
	return strings.Join(names, ", ")
}
