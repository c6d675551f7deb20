package monitors

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/store"
)

// reviewBatch is one monitor's scores of one evaluation handed to the
// reviewer: every series' scores (oldest first per series, including the
// context buckets before the written ones) and the first bucket it may
// review (the tick window).
type reviewBatch struct {
	m      *Monitor
	scores []Score
	from   time.Time
}

// reviewing says whether the evaluation asks the model about m.
func (s *Service) reviewing(m *Monitor) bool {
	return s.cfg.Reviewer != nil && m.reviewMode() != ReviewOff
}

// contextFrom is where a reviewed evaluation starts scoring so the model
// sees ReviewContextBuckets buckets before the first one written.
func (m *Monitor) contextFrom(from time.Time) time.Time {
	if from.IsZero() {
		return from
	}
	if m.Grain == GrainHour {
		return from.Add(-ReviewContextBuckets * time.Hour)
	}
	return from.AddDate(0, 0, -ReviewContextBuckets)
}

// since keeps the scores at or after from (all when from is zero).
func since(scores []Score, from time.Time) []Score {
	if from.IsZero() {
		return scores
	}
	out := scores[:0:0]
	for _, sc := range scores {
		if !sc.Bucket.Before(from) {
			out = append(out, sc)
		}
	}
	return out
}

// review runs the reviewer over the candidates of each batch (see
// review.go for the rule) and returns the reviews to store. A bucket
// already reviewed at the same score is not asked again.
func (s *Service) review(ctx context.Context, scope store.Scope, batches []reviewBatch, at time.Time) ([]reviewRow, error) {
	r := s.cfg.Reviewer
	deadline := time.Now().Add(r.cfg.Deadline)
	var out []reviewRow
	for _, b := range batches {
		done, err := s.readReviews(ctx, scope, b.m, b.from, time.Time{})
		if err != nil {
			return nil, err
		}
		def, err := s.defs.GetByKey(ctx, b.m.MetricKey)
		if err != nil { // the metric's key alone: a review never fails the evaluation
			def = &metrics.Definition{Input: metrics.Input{Key: b.m.MetricKey}}
		}
		var cands []*Score
		windows := map[*Score][]Score{}
		for i := range b.scores {
			sc := &b.scores[i]
			if sc.Bucket.Before(b.from) || !b.m.reviewCandidate(sc) {
				continue
			}
			if prev, ok := done[reviewKey(sc.Series, sc.Bucket)]; ok && prev.Status == ReviewReviewed && prev.Score == sc.Score {
				continue
			}
			cands = append(cands, sc)
			windows[sc] = contextWindow(b.scores, i)
		}
		orderCandidates(cands)
		for i, sc := range cands {
			row := reviewRow{monitorID: b.m.ID, series: sc.Series, bucket: sc.Bucket}
			switch {
			case i >= r.cfg.MaxPerMonitor || time.Now().After(deadline):
				row.Review = Review{Status: ReviewSkippedLimit, Confidence: math.NaN(), Anomalous: sc.Anomalous, Model: r.cfg.Model,
					Reason: fmt.Sprintf("more than %d candidates in this evaluation, or its review time (%s) was used", r.cfg.MaxPerMonitor, r.cfg.Deadline)}
			case !s.claimReview(ctx, scope, b.m, sc, r.cfg.Deadline):
				// Another evaluation (a replica, a catch-up, a direct call)
				// is asking the model about this bucket now: its review is
				// stored, this one would only spend the budget twice.
				continue
			default:
				var proposed float64
				row.Review, proposed = r.review(ctx, reviewInput{tenant: scope.Tenant(), def: def, m: b.m, score: sc, window: windows[sc]})
				if b.m.reviewMode() == ReviewRerank && row.Status == ReviewReviewed {
					row.Confidence, row.Anomalous = rerank(sc.Score, b.m.threshold(), sc.gated, row.Verdict, proposed)
				}
			}
			row.Mode, row.Score, row.ReviewedAt = b.m.reviewMode(), sc.Score, at
			out = append(out, row)
		}
	}
	return out, nil
}

// claimReview takes the bucket's review for this evaluation across
// replicas: true when no other evaluation is reviewing the same monitor
// version, series, bucket and score within ttl (the reviewer's time for one
// evaluation), or when the service has no shared locks (one instance). The
// claim is left to expire: a later evaluation finds the stored review and
// does not ask again. A lock store that cannot be reached claims it (a
// second review only costs tokens; never skipping one is the safe side).
func (s *Service) claimReview(ctx context.Context, scope store.Scope, m *Monitor, sc *Score, ttl time.Duration) bool {
	if s.cfg.Locks == nil {
		return true
	}
	key := fmt.Sprintf("lock:monitor-review:%s:%s:%d:%s:%d:%x", scope.Tenant(), m.ID, m.Version, seriesKey(sc.Series), sc.Bucket.UnixMilli(), math.Float64bits(sc.Score))
	_, ok, err := s.cfg.Locks.TryLock(ctx, key, ttl)
	return ok || err != nil
}

// contextWindow is up to ReviewContextBuckets scores of the same series
// before scores[i] (scores are grouped by series, oldest first).
func contextWindow(scores []Score, i int) []Score {
	key := seriesKey(scores[i].Series)
	start := i
	for start > 0 && i-start < ReviewContextBuckets && seriesKey(scores[start-1].Series) == key {
		start--
	}
	return scores[start:i]
}
