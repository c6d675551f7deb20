package monitors

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// reviewRow is one review with the key of the bucket it reviews.
type reviewRow struct {
	monitorID string
	series    map[string]string
	bucket    time.Time
	Review
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
