package exports

import (
	"context"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// rowStream is the rows of one export, read one at a time.
type rowStream interface {
	Columns() []store.Column
	Next() bool
	Values() []any
	Err() error
	Close() error
}

// open starts reading the rows of j for its tenant. The tenant comes from
// the job row, which this package wrote from a verified caller; the
// principal it builds lets the metric and ad-hoc layers apply their usual
// tenant guards.
func (s *Service) open(ctx context.Context, j *Job) (rowStream, error) {
	const op = "exports.run"
	scope, err := store.DangerousScopeForTenant(j.Tenant)
	if err != nil {
		return nil, err
	}
	ctx = auth.WithPrincipal(ctx, auth.Principal{Subject: j.RequestedBy, Tenant: j.Tenant, Roles: []auth.Role{auth.RoleAnalyst}})
	limits := store.Settings{
		"max_execution_time":   int(s.cfg.MaxExecutionTime / time.Second),
		"max_result_rows":      s.cfg.MaxRows,
		"result_overflow_mode": "throw",
	}
	switch {
	case j.Spec.Events != nil:
		return s.queryEvents(store.WithSettings(ctx, limits), scope, j.Spec.Events, windowRows)
	case j.Spec.SQL != nil:
		if s.deps.SQL == nil {
			return nil, errs.E(op, errs.KindInternal, "SQL exports are not configured")
		}
		p, err := s.deps.SQL.Prepare(ctx, j.Spec.SQL.Query, s.cfg.MaxRows)
		if err != nil {
			return nil, err
		}
		// the ad-hoc run settings (readonly, read and memory limits), then
		// the export's own time and row limits
		return s.query(store.WithSettings(store.WithSettings(ctx, p.Settings), limits), p.SQL, p.Args)
	case j.Spec.Metric != nil:
		if s.deps.Metrics == nil {
			return nil, errs.E(op, errs.KindInternal, "metric exports are not configured")
		}
		res, err := s.deps.Metrics.Query(ctx, *j.Spec.Metric)
		if err != nil {
			return nil, err
		}
		return metricRows(res), nil
	case j.Spec.Journey != nil:
		return s.openJourney(store.WithSettings(ctx, limits), *j.Spec.Journey)
	}
	return nil, errs.E(op, errs.KindInvalid, "export has no source")
}

func (s *Service) query(ctx context.Context, sql string, args []any) (rowStream, error) {
	rows, err := s.deps.DB.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return newStoreStream(rows), nil
}

// eventsSQL selects a tenant's raw events of a window, oldest first.
func eventsSQL(scope store.Scope, ev *EventsSource) (string, []any) {
	cols := ev.Columns
	if len(cols) == 0 {
		cols = EventColumns
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = store.QuoteIdent(c)
	}
	where, args := eventsWhere(scope, ev)
	return "SELECT " + strings.Join(quoted, ", ") + " FROM " + store.QuoteIdent("events") + " FINAL WHERE " + where +
		" ORDER BY occurred_at, event_id", args
}

// eventsWhere is the condition selecting the events of ev for the tenant.
func eventsWhere(scope store.Scope, ev *EventsSource) (string, []any) {
	guard, tenant := scope.Predicate("")
	where := guard + " AND occurred_at >= ? AND occurred_at < ?"
	args := []any{tenant, ev.From, ev.To}
	if len(ev.Types) > 0 {
		where += " AND type IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(ev.Types)), ", ") + ")"
		for _, t := range ev.Types {
			args = append(args, t)
		}
	}
	return where, args
}

// storeStream reads store.Rows into reused value slots.
type storeStream struct {
	store.Rows
	vals []any
	ptrs []any
	err  error
}

func newStoreStream(r store.Rows) *storeStream {
	n := len(r.Columns())
	s := &storeStream{Rows: r, vals: make([]any, n), ptrs: make([]any, n)}
	for i := range s.vals {
		s.ptrs[i] = &s.vals[i]
	}
	return s
}

func (s *storeStream) Next() bool {
	if s.err != nil || !s.Rows.Next() {
		return false
	}
	s.err = s.Rows.Scan(s.ptrs...)
	return s.err == nil
}

func (s *storeStream) Values() []any { return s.vals }

func (s *storeStream) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.Rows.Err()
}

// sliceStream is rows held in memory (metric answers are small).
type sliceStream struct {
	cols []store.Column
	rows [][]any
	i    int
}

func (s *sliceStream) Columns() []store.Column { return s.cols }
func (s *sliceStream) Next() bool              { s.i++; return s.i <= len(s.rows) }
func (s *sliceStream) Values() []any           { return s.rows[s.i-1] }
func (s *sliceStream) Err() error              { return nil }
func (s *sliceStream) Close() error            { return nil }

// metricRows flattens a metric answer: one row per series and bucket (or
// per series for a total), with the dimension values, the bucket start, the
// value and, when compared, the comparison value.
func metricRows(res *metrics.Result) rowStream {
	cols := make([]store.Column, 0, len(res.Dimensions)+3)
	for _, d := range res.Dimensions {
		cols = append(cols, store.Column{Name: d, Type: "String"})
	}
	cols = append(cols, store.Column{Name: "bucket", Type: "DateTime64(3, 'UTC')"}, store.Column{Name: "value", Type: "Nullable(Float64)"})
	compared := res.CompareRange != nil
	if compared {
		cols = append(cols, store.Column{Name: "compare_value", Type: "Nullable(Float64)"})
	}
	out := &sliceStream{cols: cols}
	for _, s := range res.Series {
		points := s.Points
		if len(points) == 0 || res.Grain == metrics.GrainTotal {
			points = []metrics.Point{s.Total}
		}
		for _, p := range points {
			row := make([]any, 0, len(cols))
			for _, v := range s.Values {
				row = append(row, v)
			}
			row = append(row, p.Bucket, optFloat(p.Value))
			if compared {
				row = append(row, optFloat(p.CompareValue))
			}
			out.rows = append(out.rows, row)
		}
	}
	return out
}

func optFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
