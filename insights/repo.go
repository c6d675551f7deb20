package insights

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Tables written by this package (migration 0015_insights.sql).
const (
	insightsTable = "insights"
	feedbackTable = "insight_feedback"
)

var (
	insightColumns = []string{"tenant_id", "insight_id", "version", "is_deleted", "status", "engine", "question", "context",
		"asked_by", "answer", "steps", "error", "created_at", "started_at", "finished_at", "updated_at"}
	feedbackColumns = []string{"tenant_id", "insight_id", "rated_by", "version", "is_deleted", "useful", "comment", "rated_at"}
	selectInsights  = "SELECT " + strings.Join(insightColumns, ", ") + " FROM " + store.QuoteIdent(insightsTable) + " FINAL"
)

// repo reads and writes insight rows.
type repo struct {
	db  *store.DB
	now func() time.Time
}

// save writes in as a new version: max(previous+1, now in µs), so versions only grow.
func (r repo) save(ctx context.Context, in *Insight) error {
	now := r.now().UTC()
	in.Version = max(in.Version+1, uint64(now.UnixMicro()))
	in.UpdatedAt = now.Truncate(time.Millisecond)
	qc, err := json.Marshal(in.Context)
	if err != nil {
		return errs.Wrap("insights.save", errs.KindInternal, err, "")
	}
	steps, err := json.Marshal(in.Steps)
	if err != nil {
		return errs.Wrap("insights.save", errs.KindInternal, err, "")
	}
	answer := ""
	if in.Answer != nil {
		b, err := json.Marshal(in.Answer)
		if err != nil {
			return errs.Wrap("insights.save", errs.KindInternal, err, "")
		}
		answer = string(b)
	}
	row := []any{in.Tenant, in.ID, in.Version, uint8(0), string(in.Status), in.Engine, in.Question, string(qc), in.AskedBy,
		answer, string(steps), in.Error, in.CreatedAt, optTime(in.StartedAt), optTime(in.FinishedAt), in.UpdatedAt}
	return r.db.Insert(ctx, store.Insert{Table: insightsTable, Columns: insightColumns, Rows: [][]any{row}})
}

// get reads one insight of the scope's tenant; missing is KindNotFound.
func (r repo) get(ctx context.Context, scope store.Scope, id string) (*Insight, error) {
	guard, tenant := scope.Predicate("")
	list, err := r.query(ctx, selectInsights+" WHERE "+guard+" AND insight_id = ?", tenant, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errs.E("insights.Get", errs.KindNotFound, "insight "+strconv.Quote(id)+" not found")
	}
	return list[0], nil
}

// page lists the tenant's insights newest first after a cursor.
func (r repo) page(ctx context.Context, scope store.Scope, first int, after string) (*Page, error) {
	guard, tenant := scope.Predicate("")
	sql, args, err := store.KeysetPage("insights.List", selectInsights+" WHERE "+guard, []any{tenant}, "created_at", "insight_id", first, after)
	if err != nil {
		return nil, err
	}
	list, err := r.query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	p := &Page{}
	p.Insights, p.HasNext, p.EndCursor = store.KeysetTrim(list, first, func(in *Insight) (time.Time, string) { return in.CreatedAt, in.ID })
	return p, nil
}

func (r repo) query(ctx context.Context, sql string, args ...any) ([]*Insight, error) {
	rows, err := r.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Insight{}
	for rows.Next() {
		in := &Insight{}
		var deleted uint8
		var status, qc, answer, steps string
		if err := rows.Scan(&in.Tenant, &in.ID, &in.Version, &deleted, &status, &in.Engine, &in.Question, &qc, &in.AskedBy,
			&answer, &steps, &in.Error, &in.CreatedAt, &in.StartedAt, &in.FinishedAt, &in.UpdatedAt); err != nil {
			return nil, err
		}
		in.Status = Status(status)
		if err := json.Unmarshal([]byte(qc), &in.Context); err != nil {
			return nil, errs.Wrap("insights.load", errs.KindInternal, err, "")
		}
		if err := json.Unmarshal([]byte(steps), &in.Steps); err != nil {
			return nil, errs.Wrap("insights.load", errs.KindInternal, err, "")
		}
		if answer != "" {
			in.Answer = &Answer{}
			if err := json.Unmarshal([]byte(answer), in.Answer); err != nil {
				return nil, errs.Wrap("insights.load", errs.KindInternal, err, "")
			}
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// rate writes one user's rating of an insight.
func (r repo) rate(ctx context.Context, tenant string, rt Rating) error {
	row := []any{tenant, rt.InsightID, rt.RatedBy, uint64(rt.RatedAt.UnixMicro()), uint8(0), boolByte(rt.Useful), rt.Comment, rt.RatedAt}
	return r.db.Insert(ctx, store.Insert{Table: feedbackTable, Columns: feedbackColumns, Rows: [][]any{row}})
}

// ratings lists the tenant's ratings, oldest first.
func (r repo) ratings(ctx context.Context, scope store.Scope) ([]Rating, error) {
	guard, tenant := scope.Predicate("")
	rows, err := r.db.Query(ctx, "SELECT insight_id, rated_by, useful, comment, rated_at FROM "+store.QuoteIdent(feedbackTable)+
		" FINAL WHERE "+guard+" ORDER BY rated_at, insight_id, rated_by", tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Rating{}
	for rows.Next() {
		var rt Rating
		var useful uint8
		if err := rows.Scan(&rt.InsightID, &rt.RatedBy, &useful, &rt.Comment, &rt.RatedAt); err != nil {
			return nil, err
		}
		rt.Useful = useful == 1
		out = append(out, rt)
	}
	return out, rows.Err()
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// optTime is a nullable time as an insert value.
func optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}
