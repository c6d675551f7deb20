package insights_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/anomaly"
	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/platform/auth"
)

// goldPath is the gold set: questions over the demo data with gold answers
// from hand-written SQL.
const goldPath = "../testdata/insights/gold.jsonl"

// Targets of the built-in analyst on the gold set.
const (
	minKindAccuracy = 0.9
	minGrounded     = 1.0
	// unusualWarmupDays is the analyst's warm-up before an UNUSUAL period.
	unusualWarmupDays = 56
)

// gold is one question of the gold set.
type gold struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Tenant   string `json:"tenant"`
	Question string `json:"question"`
	// GoldSQL computes the gold numbers: one value (WHAT_IS, COHORT), a
	// row (current, previous) for WHY_CHANGED, or (name, value) rows
	// (BY_DIMENSION per course; UNUSUAL and FORECAST per day).
	GoldSQL string `json:"gold_sql"`
	Horizon int    `json:"horizon"`
	Planted bool   `json:"planted"`
}

// TestGoldSet is `make eval-insights`: it answers every gold question with
// the built-in analyst, scores result-exact accuracy per kind (the key
// numbers equal the gold numbers; must-decline questions declined) and the
// share of answers with no ungrounded number, and holds them to the targets.
func TestGoldSet(t *testing.T) {
	set := readGold(t)
	require.GreaterOrEqual(t, len(set), 50)
	h := newHarness(t)
	a := insights.NewAnalyst(h.tools)
	type score struct{ n, ok int }
	byKind := map[string]*score{}
	grounded, engineMs, totalMs := 0, int64(0), int64(0)
	for _, g := range set {
		ans, err := a.Answer(as(g.Tenant, auth.RoleViewer), g.Question, insights.Context{}, nil)
		require.NoError(t, err, g.ID)
		s := byKind[g.Kind]
		if s == nil {
			s = &score{}
			byKind[g.Kind] = s
		}
		s.n++
		if os.Getenv("INSIGHTS_EVAL_SHOW") != "" {
			t.Logf("%s %q\n%s", g.ID, g.Question, ans.Explanation)
		}
		why := judge(t, h, g, ans)
		if why == "" {
			s.ok++
		} else {
			t.Logf("%s %s %q: %s", g.ID, g.Kind, g.Question, why)
		}
		if ans.Grounding.Status == insights.Grounded {
			grounded++
		} else {
			t.Logf("%s ungrounded %v in %q", g.ID, ans.Grounding.Ungrounded, ans.Explanation)
		}
		engineMs += ans.Provenance.EngineMs
		totalMs += ans.Provenance.LatencyMs
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var b strings.Builder
	fmt.Fprintf(&b, "gold set: %d questions\n%-13s %5s %5s %8s\n", len(set), "kind", "n", "exact", "accuracy")
	for _, k := range kinds {
		s := byKind[k]
		fmt.Fprintf(&b, "%-13s %5d %5d %7.1f%%\n", k, s.n, s.ok, 100*float64(s.ok)/float64(s.n))
	}
	fmt.Fprintf(&b, "grounded: %d/%d (%.1f%%); time %d ms, of which %d ms in tool calls\n", grounded, len(set),
		100*float64(grounded)/float64(len(set)), totalMs, engineMs)
	t.Log("\n" + b.String())
	for _, k := range kinds {
		s := byKind[k]
		assert.GreaterOrEqual(t, float64(s.ok)/float64(s.n), minKindAccuracy, k)
	}
	assert.GreaterOrEqual(t, float64(grounded)/float64(len(set)), minGrounded)
}

// judge returns why ans does not match g ("" when it does).
func judge(t *testing.T, h *harness, g gold, ans *insights.Answer) string {
	t.Helper()
	kind := string(ans.Interpretation.Kind)
	if kind != g.Kind {
		return fmt.Sprintf("kind %s, want %s (%v)", kind, g.Kind, ans.Interpretation.Assumptions)
	}
	key := map[string]float64{}
	for _, v := range ans.Key {
		key[v.Name] = v.Value
	}
	ctx := context.Background()
	switch g.Kind {
	case "DECLINED":
		if len(ans.Key) > 0 || !strings.Contains(ans.Explanation, "What I can answer") {
			return "a decline must claim no number and say what it can answer"
		}
	case "WHAT_IS", "COHORT":
		var want float64
		require.NoError(t, h.db.QueryRow(ctx, []any{&want}, g.GoldSQL), g.ID)
		name := map[string]string{"WHAT_IS": "total", "COHORT": "size"}[g.Kind]
		if got, ok := key[name]; !ok || !same(got, want) {
			return fmt.Sprintf("%s %v, gold %v", name, key[name], want)
		}
	case "WHY_CHANGED":
		var cur, prev float64
		require.NoError(t, h.db.QueryRow(ctx, []any{&cur, &prev}, g.GoldSQL), g.ID)
		if !same(key["current"], cur) || !same(key["previous"], prev) {
			return fmt.Sprintf("current/previous %v/%v, gold %v/%v", key["current"], key["previous"], cur, prev)
		}
		if g.Planted && !strings.Contains(ans.Explanation, "fell from") {
			return "the planted drop must be explained as a fall"
		}
	case "BY_DIMENSION":
		want := pairs(t, h, g)
		if len(want) != len(key) {
			return fmt.Sprintf("%d series, gold %d", len(key), len(want))
		}
		for _, p := range want {
			if !same(key[p.name], p.v) {
				return fmt.Sprintf("%s %v, gold %v", p.name, key[p.name], p.v)
			}
		}
	case "UNUSUAL":
		// The gold rows are the warm-up days, then the period's days.
		byDay := map[string]float64{}
		var base, period float64
		for i, p := range pairs(t, h, g) {
			byDay[p.name] = p.v
			if i < unusualWarmupDays {
				base += p.v
			} else {
				period += p.v
			}
		}
		if !same(key["period_total"], period) || !same(key["baseline_total"], base) {
			return fmt.Sprintf("period/baseline %v/%v, gold %v/%v", key["period_total"], key["baseline_total"], period, base)
		}
		for day, v := range key {
			if strings.HasSuffix(day, "_total") {
				continue
			}
			if w, ok := byDay[day]; !ok || !same(v, w) {
				return fmt.Sprintf("flagged %s = %v, gold %v", day, v, w)
			}
		}
		if g.Planted && !strings.Contains(ans.Explanation, "The level is unusual") {
			return "the planted drop must be found unusual"
		}
	case "FORECAST":
		var y []float64
		var sum float64
		for _, p := range pairs(t, h, g) {
			y, sum = append(y, p.v), sum+p.v
		}
		fc, err := anomaly.Run(anomaly.DefaultModel, y, g.Horizon, []float64{80}, anomaly.Options{Seasons: anomaly.SeasonsForGrain("day")})
		require.NoError(t, err, g.ID)
		var want float64
		for _, v := range fc.Point {
			want += math.Max(v, 0)
		}
		if !same(key["history_total"], sum) || math.Abs(key["forecast_total"]-want) > 1e-6*math.Max(1, want) {
			return fmt.Sprintf("history/forecast %v/%v, gold %v/%v", key["history_total"], key["forecast_total"], sum, want)
		}
		if ans.Interpretation.Horizon != g.Horizon {
			return fmt.Sprintf("horizon %d, gold %d", ans.Interpretation.Horizon, g.Horizon)
		}
	default:
		return "unknown gold kind " + g.Kind
	}
	return ""
}

type pair struct {
	name string
	v    float64
}

func pairs(t *testing.T, h *harness, g gold) []pair {
	t.Helper()
	rows, err := h.db.Query(context.Background(), g.GoldSQL)
	require.NoError(t, err, g.ID)
	defer rows.Close()
	var out []pair
	for rows.Next() {
		var p pair
		require.NoError(t, rows.Scan(&p.name, &p.v), g.ID)
		out = append(out, p)
	}
	require.NoError(t, rows.Err())
	return out
}

// same compares a key number with its gold value: exact for counts, to
// 1e-9 relative for sums, means and ratios (float summation order).
func same(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

func readGold(t *testing.T) []gold {
	t.Helper()
	f, err := os.Open(goldPath)
	require.NoError(t, err)
	defer f.Close()
	var out []gold
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var g gold
		require.NoError(t, json.Unmarshal(sc.Bytes(), &g), sc.Text())
		out = append(out, g)
	}
	require.NoError(t, sc.Err())
	return out
}
