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

// reviewRow is one review with the key of the bucket it reviews.
type reviewRow struct {
	monitorID string
	series    map[string]string
	bucket    time.Time
	Review
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
		if err != nil {
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

// reviewKey identifies a reviewed bucket of one monitor version.
func reviewKey(series map[string]string, bucket time.Time) string {
	return seriesKey(series) + "\x00" + bucket.UTC().Format(time.RFC3339Nano)
}

// writeReviews stores reviews (replacing older reviews of the same bucket).
func (s *Service) writeReviews(ctx context.Context, scope store.Scope, rows []reviewRow, versions map[string]uint64) error {
	if len(rows) == 0 {
		return nil
	}
	data := make([][]any, len(rows))
	for i, r := range rows {
		data[i] = []any{scope.Tenant(), r.monitorID, versions[r.monitorID], seriesKey(r.series), r.bucket, string(r.Mode), string(r.Status),
			string(r.Verdict), r.Explanation, r.Reason, r.Model, r.Score, r.Confidence, flag(r.Anomalous), uint32(r.Tokens), r.ReviewedAt}
	}
	return s.db.Insert(ctx, store.Insert{Table: "monitor_reviews",
		Columns: []string{"tenant_id", "monitor_id", "version", "series_key", "bucket", "mode", "status", "verdict", "explanation",
			"reason", "model", "score", "reviewed_confidence", "reviewed_anomalous", "tokens", "reviewed_at"}, Rows: data})
}

// readReviews returns m's current version's reviews of buckets in [from,
// to) (to zero: no upper end), by reviewKey.
func (s *Service) readReviews(ctx context.Context, scope store.Scope, m *Monitor, from, to time.Time) (map[string]Review, error) {
	guard, tenant := scope.Predicate("")
	sql := `SELECT series_key, bucket, mode, status, verdict, explanation, reason, model, score, reviewed_confidence, reviewed_anomalous, tokens, reviewed_at
		FROM monitor_reviews FINAL WHERE ` + guard + ` AND monitor_id = ? AND version = ? AND bucket >= ?`
	args := []any{tenant, m.ID, m.Version, from}
	if !to.IsZero() {
		sql += " AND bucket < ?"
		args = append(args, to)
	}
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Review{}
	for rows.Next() {
		var r Review
		var key, mode, status, verdict string
		var bucket time.Time
		var anomalous uint8
		var tokens uint32
		if err := rows.Scan(&key, &bucket, &mode, &status, &verdict, &r.Explanation, &r.Reason, &r.Model, &r.Score, &r.Confidence,
			&anomalous, &tokens, &r.ReviewedAt); err != nil {
			return nil, err
		}
		r.Mode, r.Status, r.Verdict, r.Anomalous, r.Tokens = LLMReview(mode), ReviewStatus(status), Verdict(verdict), anomalous == 1, int(tokens)
		r.ReviewedAt = r.ReviewedAt.UTC()
		out[key+"\x00"+bucket.UTC().Format(time.RFC3339Nano)] = r
	}
	return out, rows.Err()
}

// attachReviews sets the Review of every score of m that has a current
// one (reviewed at the score it has now; a stale review is ignored).
func (s *Service) attachReviews(ctx context.Context, scope store.Scope, m *Monitor, scores []Score, from, to time.Time) error {
	if m.reviewMode() == ReviewOff || len(scores) == 0 {
		return nil
	}
	reviews, err := s.readReviews(ctx, scope, m, from, to)
	if err != nil || len(reviews) == 0 {
		return err
	}
	for i := range scores {
		sc := &scores[i]
		if r, ok := reviews[reviewKey(sc.Series, sc.Bucket)]; ok && r.Score == sc.Score {
			sc.Review = &r
		}
	}
	return nil
}
