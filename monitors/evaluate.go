package monitors

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/learnhub/analytics-service/anomaly"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// insertChunk bounds the rows of one score insert.
const insertChunk = 50_000

// Stats is what one evaluation did and where its time went.
type Stats struct {
	Monitors, Series, Scores, Errors int
	// Engine is the time spent in ClickHouse (metric queries, score and run
	// inserts); Detect the time spent replaying detectors in Go.
	Engine, Detect time.Duration
	// Reviews are the LLM reviews stored and Review the time spent on them
	// (model calls included).
	Reviews int
	Review  time.Duration
}

// selection says which monitors of a tenant an evaluation covers.
type selection struct {
	grain     metrics.Grain // monitors of this grain (ticks)
	monitorID string        // or this monitor alone (backfills)
	version   uint64        // …at this version; a newer one has its own backfill
	backfill  bool          // write every bucket of the window
}

// Evaluate evaluates every active monitor of tenant at grain for the
// buckets that closed by at (a tick): a monitor version never backfilled
// gets its whole window written, the others their TickBuckets newest
// buckets. It is what the monitors:evaluate task runs, exported for the
// benchmark and the demo check; tenant comes from trusted input.
func (s *Service) Evaluate(ctx context.Context, tenant string, grain metrics.Grain, at time.Time) (Stats, error) {
	return s.evaluate(ctx, tenant, selection{grain: grain}, at)
}

// evaluate runs one evaluation of the selected monitors of tenant at at.
func (s *Service) evaluate(ctx context.Context, tenant string, sel selection, at time.Time) (Stats, error) {
	var st Stats
	ctx, scope, all, err := s.monitorsOf(ctx, tenant)
	if err != nil {
		return st, err
	}
	var ms []*Monitor
	for _, m := range all {
		switch {
		case !m.Active:
		case sel.monitorID != "" && (m.ID != sel.monitorID || m.Version != sel.version):
		case sel.monitorID == "" && m.Grain != sel.grain:
		default:
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return st, nil
	}
	done, err := s.backfilled(ctx, scope)
	if err != nil {
		return st, err
	}
	at = at.UTC().Truncate(time.Millisecond)
	reqs := make([]metrics.Request, len(ms))
	for i, m := range ms {
		reqs[i] = m.request(m.window(at))
	}
	t0 := time.Now()
	results, qerrs := s.query.QueryBatch(ctx, reqs)
	st.Engine += time.Since(t0)

	t0 = time.Now()
	var scores []Score
	var runs []Run
	var batches []reviewBatch
	for i, m := range ms {
		kind, from := RunTick, m.tickFrom(at)
		if v, ok := done[m.ID]; sel.backfill || !ok || v != m.Version {
			kind, from = RunBackfill, time.Time{}
		}
		run := Run{MonitorID: m.ID, ScheduledFor: at, Kind: kind, EvaluatedAt: at, Errors: []SeriesError{}}
		if qerrs[i] != nil {
			run.Kind = RunTick // a failed backfill is retried by the next tick
			run.Errors = append(run.Errors, SeriesError{Error: errs.PublicMessage(qerrs[i])})
		} else {
			scoreFrom := from
			if s.reviewing(m) {
				scoreFrom = m.contextFrom(from)
			}
			sc, serrs := scoreResult(m, results[i], scoreFrom, at)
			if s.reviewing(m) {
				batches = append(batches, reviewBatch{m: m, scores: sc, from: m.tickFrom(at)})
				sc = since(sc, from)
			}
			scores = append(scores, sc...)
			run.Series, run.Scored, run.Errors = len(results[i].Series), len(sc), append(run.Errors, serrs...)
		}
		st.Series += run.Series
		st.Errors += len(run.Errors)
		runs = append(runs, run)
	}
	st.Detect += time.Since(t0)
	st.Monitors, st.Scores = len(ms), len(scores)

	versions := map[string]uint64{}
	for _, m := range ms {
		versions[m.ID] = m.Version
	}
	var reviews []reviewRow
	if len(batches) > 0 {
		t0 = time.Now()
		if reviews, err = s.review(ctx, scope, batches, at); err != nil {
			return st, err
		}
		st.Reviews, st.Review = len(reviews), time.Since(t0)
	}
	t0 = time.Now()
	defer func() { st.Engine += time.Since(t0) }()
	if err := s.writeScores(ctx, scope, scores, versions, at); err != nil {
		return st, err
	}
	if err := s.writeReviews(ctx, scope, reviews, versions); err != nil {
		return st, err
	}
	return st, s.writeRuns(ctx, scope, runs, versions)
}

// window is the history an evaluation at at replays: history() buckets up
// to the last bucket closed by at.
func (m *Monitor) window(at time.Time) timerange.Range {
	end := m.Grain.Truncate(at, time.UTC)
	if m.Grain == GrainHour {
		return timerange.Range{From: end.Add(-time.Duration(m.history()) * time.Hour), To: end}
	}
	return timerange.Range{From: end.AddDate(0, 0, -m.history()), To: end}
}

// tickFrom is the first bucket a tick at at writes.
func (m *Monitor) tickFrom(at time.Time) time.Time {
	end := m.Grain.Truncate(at, time.UTC)
	if m.Grain == GrainHour {
		return end.Add(-TickBuckets * time.Hour)
	}
	return end.AddDate(0, 0, -TickBuckets)
}

// scoreResult replays m's detector over every series of res and returns
// the scores of buckets at or after from. A series whose detector fails
// (panics, or sees a value that is not finite) is reported and skipped.
func scoreResult(m *Monitor, res *metrics.Result, from, at time.Time) ([]Score, []SeriesError) {
	var out []Score
	var serrs []SeriesError
	loc := time.UTC
	if m.QuietHours != nil {
		loc, _ = timerange.Location(m.QuietHours.Timezone, "quietHours.timezone")
	}
	for _, series := range res.Series {
		labels := labelsOf(res, series)
		sc, err := scoreSeries(m, labels, series.Points, from, at, loc)
		if err != nil {
			serrs = append(serrs, SeriesError{Series: seriesKey(labels), Error: err.Error()})
			continue
		}
		out = append(out, sc...)
	}
	return out, serrs
}

// scoreSeries runs one fresh detector over points (oldest first); buckets
// without a value (an average of nothing) are not observed.
func scoreSeries(m *Monitor, labels map[string]string, points []metrics.Point, from, at time.Time, loc *time.Location) (out []Score, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("detector %s failed: %v", m.detector(), r)
		}
	}()
	det, err := anomaly.NewDetector(m.Detector)
	if err != nil {
		return nil, err
	}
	threshold, minHist := m.threshold(), m.minHistory()
	seen := 0
	for _, p := range points {
		if p.Value == nil {
			continue
		}
		v := *p.Value
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("bucket %s: value %v is not finite", p.Bucket.UTC().Format(time.RFC3339), v)
		}
		d := det.Observe(anomaly.Observation{Time: p.Bucket, Value: v})
		seen++
		if p.Bucket.Before(from) {
			continue
		}
		gated := seen > minHist && d.Confidence >= MinConfidence && !m.quiet(p.Bucket, loc)
		out = append(out, Score{MonitorID: m.ID, Bucket: p.Bucket.UTC(), Series: labels, Value: v,
			Expected: d.Expected, Lower: d.Lower, Upper: d.Upper, Score: d.Score, Confidence: d.Confidence,
			Anomalous: gated && d.Score >= threshold, gated: gated,
			Detector: m.detector(), Query: m.queryFor(labels, p.Bucket), EvaluatedAt: at})
	}
	return out, nil
}

// detector is the effective detector name.
func (m *Monitor) detector() string {
	if m.Detector == "" {
		return anomaly.DefaultDetector
	}
	return m.Detector
}

// queryRef is the metric request behind one score, as stored in Score.Query.
type queryRef struct {
	MetricKey string           `json:"metricKey"`
	Grain     metrics.Grain    `json:"grain"`
	Filters   []metrics.Filter `json:"filters"`
	// Series names the "(other)" series, which no filter selects.
	Series    map[string]string `json:"series,omitempty"`
	TimeRange struct {
		From time.Time `json:"from"`
		To   time.Time `json:"to"`
	} `json:"timeRange"`
	Limit int `json:"limit,omitempty"`
}

// queryFor is the JSON metric request that reproduces one series' bucket.
func (m *Monitor) queryFor(labels map[string]string, bucket time.Time) string {
	q := queryRef{MetricKey: m.MetricKey, Grain: m.Grain, Filters: append([]metrics.Filter{}, m.Filters...)}
	for _, d := range m.Dimensions {
		v, ok := labels[d]
		if !ok {
			continue
		}
		if v == metrics.OtherBucket {
			q.Series, q.Limit = labels, m.topN()
			continue
		}
		q.Filters = append(q.Filters, metrics.Filter{Dimension: d, Op: metrics.OpEq, Values: []string{v}})
	}
	q.TimeRange.From, q.TimeRange.To = bucket.UTC(), m.Grain.Next(bucket).UTC()
	raw, _ := json.Marshal(q)
	return string(raw)
}

// seriesKey is the canonical text of labels (JSON, keys sorted).
func seriesKey(labels map[string]string) string {
	raw, _ := json.Marshal(labels)
	return string(raw)
}

// writeScores stores scores; the dedup token derives from the evaluation
// (tenant, time, first and last row) so a retried insert is a no-op.
func (s *Service) writeScores(ctx context.Context, scope store.Scope, scores []Score, versions map[string]uint64, at time.Time) error {
	for start := 0; start < len(scores); start += insertChunk {
		chunk := scores[start:min(start+insertChunk, len(scores))]
		rows := make([][]any, len(chunk))
		for i, sc := range chunk {
			rows[i] = []any{scope.Tenant(), sc.MonitorID, seriesKey(sc.Series), sc.Bucket, sc.Value, sc.Expected, sc.Lower, sc.Upper,
				sc.Score, sc.Confidence, flag(sc.Anomalous), sc.Detector, sc.Query, sc.EvaluatedAt, versions[sc.MonitorID]}
		}
		first, last := chunk[0], chunk[len(chunk)-1]
		token := fmt.Sprintf("monitor-scores:%s:%d:%s:%s:%d:%s:%s:%d", scope.Tenant(), at.UnixMilli(), first.MonitorID, seriesKey(first.Series),
			first.Bucket.UnixMilli(), last.MonitorID, seriesKey(last.Series), last.Bucket.UnixMilli())
		if err := s.db.Insert(ctx, store.Insert{Table: "monitor_scores",
			Columns: []string{"tenant_id", "monitor_id", "series_key", "bucket", "value", "expected", "lower", "upper",
				"score", "confidence", "anomalous", "detector", "query", "evaluated_at", "version"},
			Rows: rows, DedupToken: token}); err != nil {
			return err
		}
	}
	return nil
}

// writeRuns records one row per evaluated monitor.
func (s *Service) writeRuns(ctx context.Context, scope store.Scope, runs []Run, versions map[string]uint64) error {
	if len(runs) == 0 {
		return nil
	}
	rows := make([][]any, len(runs))
	for i, r := range runs {
		raw, _ := json.Marshal(r.Errors)
		rows[i] = []any{scope.Tenant(), r.MonitorID, r.ScheduledFor, r.Kind, versions[r.MonitorID], uint32(r.Series), uint32(r.Scored), string(raw), r.EvaluatedAt}
	}
	return s.db.Insert(ctx, store.Insert{Table: "monitor_runs",
		Columns: []string{"tenant_id", "monitor_id", "scheduled_for", "kind", "version", "series", "scored", "errors", "evaluated_at"}, Rows: rows})
}

// backfilled maps each monitor of the tenant to the newest version with a
// recorded backfill.
func (s *Service) backfilled(ctx context.Context, scope store.Scope) (map[string]uint64, error) {
	guard, tenant := scope.Predicate("")
	rows, err := s.db.Query(ctx, "SELECT monitor_id, max(version) FROM monitor_runs WHERE "+guard+" AND kind = ? GROUP BY monitor_id", tenant, RunBackfill)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var id string
		var v uint64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}
