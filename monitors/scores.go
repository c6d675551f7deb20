package monitors

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// MaxScoreRows bounds the rows one read returns.
const MaxScoreRows = 200_000

// Scores returns every series' scored buckets of monitor monitorID of
// tenant in [from, to), ordered by series then bucket: what alert rules
// read. Only the monitor's current version counts. tenant comes from the
// caller's trusted input (a rule's job); a verified caller of another
// tenant in ctx is refused.
func (s *Service) Scores(ctx context.Context, tenant, monitorID string, from, to time.Time) ([]Score, error) {
	ctx, scope, err := systemContext(ctx, tenant)
	if err != nil {
		return nil, err
	}
	m, err := s.get(ctx, scope, monitorID)
	if err != nil {
		return nil, err
	}
	return s.scores(ctx, scope, m, timerange.Range{From: from, To: to})
}

// MonitorScores is Scores for the caller's tenant (GraphQL).
func (s *Service) MonitorScores(ctx context.Context, monitorID string, spec timerange.Spec) (*Monitor, []Score, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, nil, err
	}
	m, err := s.get(ctx, scope, monitorID)
	if err != nil {
		return nil, nil, err
	}
	r, err := timerange.Resolve(spec, s.cfg.Now(), "timeRange")
	if err != nil {
		return nil, nil, err
	}
	sc, err := s.scores(ctx, scope, m, r)
	return m, sc, err
}

func (s *Service) scores(ctx context.Context, scope store.Scope, m *Monitor, r timerange.Range) ([]Score, error) {
	guard, tenant := scope.Predicate("")
	rows, err := s.db.Query(ctx, `SELECT series_key, bucket, value, expected, lower, upper, score, confidence, anomalous, detector, query, evaluated_at
		FROM monitor_scores FINAL
		WHERE `+guard+` AND monitor_id = ? AND version = ? AND bucket >= ? AND bucket < ?
		ORDER BY series_key, bucket LIMIT ?`, tenant, m.ID, m.Version, r.From, r.To, MaxScoreRows+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Score{}
	for rows.Next() {
		var sc Score
		var key string
		var anomalous uint8
		if err := rows.Scan(&key, &sc.Bucket, &sc.Value, &sc.Expected, &sc.Lower, &sc.Upper, &sc.Score, &sc.Confidence,
			&anomalous, &sc.Detector, &sc.Query, &sc.EvaluatedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(key), &sc.Series); err != nil {
			return nil, errs.Wrap("monitors.scores", errs.KindInternal, err, "")
		}
		sc.MonitorID, sc.Anomalous = m.ID, anomalous == 1
		sc.Bucket, sc.EvaluatedAt = sc.Bucket.UTC(), sc.EvaluatedAt.UTC()
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) > MaxScoreRows {
		return nil, errs.Invalid("monitors.scores", "timeRange", fmt.Sprintf("timeRange: more than %d scored buckets; ask for a shorter range", MaxScoreRows))
	}
	return out, s.attachReviews(ctx, scope, m, out, r.From, r.To)
}

// LastRun returns the newest recorded evaluation of the caller's monitor
// m; ok is false when it has not been evaluated yet.
func (s *Service) LastRun(ctx context.Context, m *Monitor) (run Run, ok bool, err error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return Run{}, false, err
	}
	guard, tenant := scope.Predicate("")
	rows, err := s.db.Query(ctx, `SELECT scheduled_for, kind, series, scored, errors, evaluated_at FROM monitor_runs FINAL
		WHERE `+guard+` AND monitor_id = ? AND version = ? ORDER BY scheduled_for DESC, kind LIMIT 1`, tenant, m.ID, m.Version)
	if err != nil {
		return Run{}, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return Run{}, false, rows.Err()
	}
	r := Run{MonitorID: m.ID}
	var series, scored uint32
	var raw string
	if err := rows.Scan(&r.ScheduledFor, &r.Kind, &series, &scored, &raw, &r.EvaluatedAt); err != nil {
		return Run{}, false, err
	}
	r.Series, r.Scored = int(series), int(scored)
	if err := json.Unmarshal([]byte(raw), &r.Errors); err != nil {
		return Run{}, false, errs.Wrap("monitors.LastRun", errs.KindInternal, err, "")
	}
	return r, true, rows.Err()
}
