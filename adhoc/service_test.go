package adhoc_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/reqid"
	"github.com/learnhub/analytics-service/store"
)

func TestRunLimits(t *testing.T) {
	f := newFixture(t)
	svc := adhoc.NewService(f.full, adhoc.Config{MaxLimit: 50})
	ctx := as(tenantA)
	for _, tc := range []struct {
		name      string
		sql       string
		limit     int
		rows      int
		truncated bool
	}{
		{"default limit", "SELECT event_id FROM events", 0, adhoc.DefaultLimit, true},
		{"explicit limit", "SELECT event_id FROM events", 7, 7, true},
		{"limit above max is lowered", "SELECT event_id FROM events", 1000, 50, true},
		{"own smaller limit is exact", "SELECT event_id FROM events LIMIT 3", 10, 3, false},
		{"own larger limit is capped", "SELECT event_id FROM events LIMIT 500", 10, 10, true},
		{"complete result", "SELECT DISTINCT type FROM events", 20, 9, false},
		{"union is capped", "SELECT event_id FROM events UNION ALL SELECT event_id FROM events", 5, 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "default limit" {
				svc = adhoc.NewService(f.full, adhoc.Config{})
			} else {
				svc = adhoc.NewService(f.full, adhoc.Config{MaxLimit: 50})
			}
			res, err := svc.Run(ctx, tc.sql, tc.limit)
			require.NoError(t, err)
			assert.Len(t, res.Rows, tc.rows)
			assert.Equal(t, tc.truncated, res.Truncated)
			assert.Positive(t, res.Elapsed)
			require.Len(t, res.Columns, 1)
		})
	}
}

func TestRunResultShape(t *testing.T) {
	f := newFixture(t)
	svc := newService(f.full)
	res, err := svc.Run(as(tenantA), "SELECT type, count() AS n, countIf(type = 'x'), min(occurred_at) AS first, [1, 2] AS a FROM events WHERE type = 'user.login' GROUP BY type", 0)
	require.NoError(t, err)
	assert.Equal(t, []adhoc.Column{
		{Name: "type", Type: "LowCardinality(String)"},
		{Name: "n", Type: "UInt64"},
		{Name: "countIf((`type` = 'x'))", Type: "UInt64"},
		{Name: "first", Type: "DateTime64(3, 'UTC')"},
		{Name: "a", Type: "Array(Int64)"},
	}, res.Columns)
	require.Len(t, res.Rows, 1)
	assert.Equal(t, "user.login", res.Rows[0][0])
	assert.IsType(t, "", res.Rows[0][3], "times are RFC 3339 strings")
	assert.Equal(t, []any{int64(1), int64(2)}, res.Rows[0][4])
}

func TestRunErrors(t *testing.T) {
	f := newFixture(t)
	svc := newService(f.full)
	t.Run("refusal carries line and column", func(t *testing.T) {
		_, err := svc.Run(as(tenantA), "SELECT count()\nFROM events\nSETTINGS readonly = 0", 0)
		require.Error(t, err)
		assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
		assert.Equal(t, "line 3, column 1: SETTINGS is not allowed: the service sets the query's limits itself", errs.PublicMessage(err))
		assert.Equal(t, map[string]any{"line": 3, "column": 1}, errs.PublicFields(err))
	})
	t.Run("table function names the fix", func(t *testing.T) {
		_, err := svc.Run(as(tenantA), "SELECT * FROM file('/etc/passwd')", 0)
		assert.Equal(t, "line 1, column 15: table function file() is not allowed: query the events table", errs.PublicMessage(err))
	})
	t.Run("dictGet", func(t *testing.T) {
		_, err := svc.Run(as(tenantA), "SELECT dictGet('d', 'a', 1)", 0)
		assert.Contains(t, errs.PublicMessage(err), "function dictGet is not allowed")
	})
	t.Run("engine error is bad input with a hint", func(t *testing.T) {
		_, err := svc.Run(as(tenantA), "SELECT no_such_column FROM events", 0)
		require.Error(t, err)
		assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
		assert.Contains(t, errs.PublicMessage(err), `unknown column or alias "no_such_column"`)
		assert.NotContains(t, errs.PublicMessage(err), "SELECT", "engine text (SQL) never reaches the client")
	})
	t.Run("rows to read limit", func(t *testing.T) {
		small := adhoc.NewService(f.full, adhoc.Config{MaxRowsToRead: 10})
		_, err := small.Run(as(tenantA), "SELECT count() FROM events WHERE user_id != ''", 0)
		require.Error(t, err)
		assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
		assert.Contains(t, errs.PublicMessage(err), "more rows than allowed")
	})
	t.Run("no tenant fails closed", func(t *testing.T) {
		_, err := svc.Run(context.Background(), "SELECT 1", 0)
		assert.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
	})
}

func TestRunAudits(t *testing.T) {
	f := newFixture(t)
	svc := newService(f.full)
	ctx := reqid.With(as(tenantA), "req-audit-1")
	_, err := svc.Run(ctx, "SELECT count() FROM events", 0)
	require.NoError(t, err)
	_, err = svc.Run(reqid.With(as(tenantA), "req-audit-2"), "SELECT * FROM system.users", 0)
	require.Error(t, err)

	rows, err := queryDirect(context.Background(), f.full,
		"SELECT tenant_id, subject, request_id, sql, length(printed_sha256), rows, error_code, error != '' FROM query_audit ORDER BY request_id")
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, []any{tenantA, "analyst@acme", "req-audit-1", "SELECT count() FROM events", uint64(64), uint64(1), "", uint64(0)}, rows[0])
	assert.Equal(t, []any{tenantA, "analyst@acme", "req-audit-2", "SELECT * FROM system.users", uint64(0), uint64(0), "BAD_USER_INPUT", uint64(1)}, rows[1])
}

func TestPrepareChecksThePlan(t *testing.T) {
	f := newFixture(t)
	svc := adhoc.NewService(f.full, adhoc.Config{})
	p, err := svc.Prepare(as(tenantA), "SELECT count() FROM events", 10)
	require.NoError(t, err)
	assert.Contains(t, p.SQL, "tenant_id")
	assert.Equal(t, store.Settings{"readonly": 1, "max_rows_to_read": int64(adhoc.DefaultMaxRowsToRead),
		"max_memory_usage": int64(adhoc.DefaultMaxMemoryUsage)}, p.Settings, "the third wall's settings go with the SQL")
	_, err = svc.Prepare(as(tenantA), "SELECT * FROM numbers(10)", 10)
	require.Error(t, err, "table functions never pass")
	_, err = svc.Prepare(context.Background(), "SELECT 1", 10)
	require.Error(t, err, "no tenant, no SQL")
}
