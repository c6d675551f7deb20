package monitors

import (
	"math"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRerankRule pins the "never the only judge" rule at threshold 0.6:
// the model moves a confidence by at most ReviewStep, flags nothing below
// max(0.3, 0.4) and clears nothing at or above 0.8.
func TestRerankRule(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name         string
		score        float64
		gated        bool
		verdict      Verdict
		proposed     float64
		wantConf     float64
		wantFlagged  bool
		wantFlagNote string
	}{
		{"confirm keeps the score", 0.9, true, VerdictConfirm, nan, 0.9, true, ""},
		{"downgrade to 0 moves one step only", 0.9, true, VerdictDowngrade, 0, 0.7, true, "0.9 - 0.2 stays above the threshold"},
		{"downgrade of a marginal flag clears it", 0.65, true, VerdictDowngrade, nan, 0.45, false, ""},
		{"a proposed confidence shortens the step", 0.65, true, VerdictDowngrade, 0.6, 0.6, true, ""},
		{"upgrade to 1 moves one step only", 0.5, true, VerdictUpgrade, 1, 0.7, true, "near the threshold: statistics and model agree"},
		{"upgrade of a low score has no effect on the flag", 0.25, true, VerdictUpgrade, 1, 0.45, false, "below half the threshold"},
		{"upgrade of an ungated bucket never flags", 0.55, false, VerdictUpgrade, nan, 0.75, false, "warm-up or quiet hours"},
		{"upgrade clamps at 1", 0.95, true, VerdictUpgrade, nan, 1, true, ""},
		{"downgrade clamps at 0", 0.1, true, VerdictDowngrade, nan, 0, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf, flagged := rerank(tc.score, 0.6, tc.gated, tc.verdict, tc.proposed)
			assert.InDelta(t, tc.wantConf, conf, 1e-9)
			assert.Equal(t, tc.wantFlagged, flagged, tc.wantFlagNote)
			assert.LessOrEqual(t, math.Abs(conf-tc.score), ReviewStep+1e-9)
		})
	}
}

func TestReviewCandidatesAndAnomalyConfidence(t *testing.T) {
	m := &Monitor{Grain: GrainDay, Sensitivity: SensitivityMedium}
	flagged := &Score{Score: 0.8, Anomalous: true, gated: true}
	near := &Score{Score: 0.35, gated: true}
	low := &Score{Score: 0.2, gated: true}
	warm := &Score{Score: 0.55}
	for _, tc := range []struct {
		mode LLMReview
		want []bool
	}{
		{"", []bool{false, false, false, false}},
		{ReviewOff, []bool{false, false, false, false}},
		{ReviewExplain, []bool{true, false, false, false}},
		{ReviewRerank, []bool{true, true, false, false}},
	} {
		m.LLMReview = tc.mode
		var got []bool
		for _, sc := range []*Score{flagged, near, low, warm} {
			got = append(got, m.reviewCandidate(sc))
		}
		assert.Equal(t, tc.want, got, "mode %q", tc.mode)
	}

	s := Score{Score: 0.8, Anomalous: true}
	assert.Equal(t, 0.8, s.AnomalyConfidence(), "no review")
	s.Review = &Review{Mode: ReviewExplain, Status: ReviewReviewed, Confidence: math.NaN(), Anomalous: true}
	assert.Equal(t, 0.8, s.AnomalyConfidence(), "EXPLAIN changes nothing")
	s.Review = &Review{Mode: ReviewRerank, Status: ReviewFailed, Confidence: math.NaN(), Anomalous: true}
	assert.Equal(t, 0.8, s.AnomalyConfidence(), "a failed review leaves the statistics")
	s.Review = &Review{Mode: ReviewRerank, Status: ReviewReviewed, Confidence: 0.6, Anomalous: true}
	assert.Equal(t, 0.6, s.AnomalyConfidence(), "a RERANK review's confidence")
	s.Review = &Review{Mode: ReviewRerank, Status: ReviewReviewed, Confidence: 0.45, Anomalous: false}
	assert.Equal(t, 0.0, s.AnomalyConfidence(), "cleared by a bounded downgrade")
}

func TestParseReview(t *testing.T) {
	call := func(args string) openai.ChatCompletionResponse {
		return openai.ChatCompletionResponse{Choices: []openai.ChatCompletionChoice{{Message: openai.ChatCompletionMessage{
			ToolCalls: []openai.ToolCall{{Type: openai.ToolTypeFunction, Function: openai.FunctionCall{Name: reviewTool, Arguments: args}}}}}}}
	}
	for _, tc := range []struct {
		name, args, wantErr string
	}{
		{"well formed", `{"explanation":"Completions fell 60%.","verdict":"CONFIRM","reason":"clear drop"}`, ""},
		{"with a confidence", `{"explanation":"x","verdict":"DOWNGRADE","reason":"r","confidence":0}`, ""},
		{"not JSON", `{"explanation": "cut`, "not a JSON object"},
		{"unknown verdict", `{"explanation":"x","verdict":"FLAG_IT","reason":"r"}`, `verdict "FLAG_IT"`},
		{"no verdict", `{"explanation":"x","reason":"r"}`, "no verdict"},
		{"empty explanation", `{"explanation":"  ","verdict":"CONFIRM","reason":"r"}`, "no explanation"},
		{"confidence out of range", `{"explanation":"x","verdict":"UPGRADE","reason":"r","confidence":7}`, "outside [0, 1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mr, err := parseReview(call(tc.args))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.NotEmpty(t, *mr.Explanation)
		})
	}
	_, err := parseReview(openai.ChatCompletionResponse{})
	assert.Error(t, err, "no choice")
	mr, err := parseReview(openai.ChatCompletionResponse{Choices: []openai.ChatCompletionChoice{{Message: openai.ChatCompletionMessage{
		Content: `{"explanation":"in the content","verdict":"CONFIRM","reason":"r"}`}}}})
	require.NoError(t, err, "a model that answers in the message instead of the tool")
	assert.Equal(t, "in the content", *mr.Explanation)
	assert.Len(t, []rune(clip(strings.Repeat("é", 500), MaxExplanation)), MaxExplanation)
}
