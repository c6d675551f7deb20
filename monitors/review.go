package monitors

import (
	"math"
	"sort"
	"time"
)

// LLM review: an optional second opinion on what the statistical detector
// flags, through an OpenAI-compatible model (the AI gateway of the
// insights service, ANALYTICS_AI_*). It is never the only judge; the rule
// it keeps, per monitor setting:
//
//   - OFF (the default): no model is asked, nothing changes.
//   - EXPLAIN: the buckets the statistics flagged get the model's
//     explanation; nothing else changes.
//   - RERANK: a bucket the statistics flagged, or one that passed every
//     gate but the threshold (history, warm-up confidence, quiet hours)
//     with a score of at least half the threshold, gets an explanation and
//     a reviewed confidence: the statistical score moved by at most
//     ReviewStep towards the model's verdict (CONFIRM: unchanged,
//     DOWNGRADE: down, UPGRADE: up; a confidence the model proposes only
//     shortens the step), clamped to [0, 1]. The bucket is anomalous after
//     review when the reviewed confidence reaches the threshold. So a
//     bucket scoring at least threshold+ReviewStep always stays flagged, one
//     below max(threshold/2, threshold-ReviewStep) is never flagged, and
//     the model only decides between those bounds.
//
// The statistical score, confidence and flag stay stored unchanged in
// monitor_scores; the review sits beside them (monitor_reviews) with the
// score it saw, and a review whose score no longer matches is ignored.
// Anomaly alert rules read the reviewed confidence when a RERANK review
// is present. A failed or skipped review (timeout, HTTP error, malformed
// answer, budget used up, too many candidates) leaves the statistical
// result in force and records why; the evaluation always completes. Only
// the buckets a tick writes are reviewed (a backfill's history never is),
// at most MaxReviewsPerMonitor per monitor and evaluation.

// LLMReview is a monitor's LLM review setting.
type LLMReview string

// The LLM review settings.
const (
	ReviewOff     LLMReview = "OFF"
	ReviewExplain LLMReview = "EXPLAIN"
	ReviewRerank  LLMReview = "RERANK"
)

// ReviewStatus is the outcome of one bucket's review.
type ReviewStatus string

// The review outcomes.
const (
	// ReviewReviewed: the model answered with a well-formed verdict.
	ReviewReviewed ReviewStatus = "REVIEWED"
	// ReviewSkippedBudget: the tenant's daily AI token budget is used up.
	ReviewSkippedBudget ReviewStatus = "SKIPPED_BUDGET"
	// ReviewSkippedLimit: more candidates than MaxReviewsPerMonitor, or the
	// evaluation's review deadline passed.
	ReviewSkippedLimit ReviewStatus = "SKIPPED_LIMIT"
	// ReviewFailed: timeout, HTTP error or malformed answer (Reason says).
	ReviewFailed ReviewStatus = "FAILED"
)

// Verdict is the model's opinion of the statistical flag.
type Verdict string

// The verdicts.
const (
	VerdictConfirm   Verdict = "CONFIRM"
	VerdictDowngrade Verdict = "DOWNGRADE"
	VerdictUpgrade   Verdict = "UPGRADE"
)

// Review limits.
const (
	// ReviewStep bounds how far a RERANK review moves a bucket's confidence.
	ReviewStep = 0.2
	// MaxExplanation bounds the stored explanation (characters).
	MaxExplanation = 400
	// maxReason bounds the stored reason (characters).
	maxReason = 200
)

// Review is the model's review of one scored bucket.
type Review struct {
	Mode   LLMReview
	Status ReviewStatus
	// Verdict, Explanation and Model are set when Status is REVIEWED.
	Verdict     Verdict
	Explanation string
	// Reason is the model's reason (REVIEWED) or why the review did not
	// happen (the other statuses).
	Reason string
	Model  string
	// Score is the statistical score the review saw.
	Score float64
	// Confidence is the reviewed confidence (RERANK and REVIEWED), NaN
	// otherwise; Anomalous the flag after review (the statistical flag when
	// the review did not rerank).
	Confidence float64
	Anomalous  bool
	Tokens     int
	ReviewedAt time.Time
}

// Reranked says the review moved (or confirmed) the bucket's confidence,
// so it replaces the statistical flag in anomaly confidence.
func (r *Review) Reranked() bool {
	return r != nil && r.Mode == ReviewRerank && r.Status == ReviewReviewed && !math.IsNaN(r.Confidence)
}

// ReviewedBy names the model of a successful review, "" otherwise (what
// alert events carry as reviewedBy).
func (r *Review) ReviewedBy() string {
	if r == nil || r.Status != ReviewReviewed {
		return ""
	}
	return r.Model
}

// reviewMode is the monitor's effective setting.
func (m *Monitor) reviewMode() LLMReview {
	if m.LLMReview == "" {
		return ReviewOff
	}
	return m.LLMReview
}

// EffectiveLLMReview is the LLM review setting, OFF when unset.
func (m *Monitor) EffectiveLLMReview() LLMReview { return m.reviewMode() }

// reviewCandidate says whether sc (a score of m) is one the reviewer looks
// at under m's setting.
func (m *Monitor) reviewCandidate(sc *Score) bool {
	switch m.reviewMode() {
	case ReviewExplain:
		return sc.Anomalous
	case ReviewRerank:
		return sc.Anomalous || (sc.gated && sc.Score >= m.threshold()/2)
	}
	return false
}

// rerank applies a verdict to a statistical score: the reviewed confidence
// and whether the bucket is anomalous after review. proposed is the
// confidence the model suggested, NaN when it gave none. gated says the
// bucket passed every statistical gate but the threshold.
func rerank(score, threshold float64, gated bool, v Verdict, proposed float64) (float64, bool) {
	step := ReviewStep
	if !math.IsNaN(proposed) {
		step = math.Min(step, math.Abs(proposed-score))
	}
	reviewed := score
	switch v {
	case VerdictDowngrade:
		reviewed = score - step
	case VerdictUpgrade:
		reviewed = score + step
	}
	reviewed = math.Max(0, math.Min(1, reviewed))
	return reviewed, gated && score >= threshold/2 && reviewed >= threshold
}

// orderCandidates puts the statistically flagged buckets first, then the
// highest scores, then the newest, so the per-monitor limit keeps the
// reviews that matter most.
func orderCandidates(scs []*Score) {
	sort.SliceStable(scs, func(i, j int) bool {
		a, b := scs[i], scs[j]
		if a.Anomalous != b.Anomalous {
			return a.Anomalous
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.Bucket.After(b.Bucket)
	})
}

// clip cuts s to at most n characters (runes).
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
