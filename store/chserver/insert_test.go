package chserver_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

const insertTable = "CREATE TABLE ins (" +
	"id UInt64, n Int32, s String, f Float64, ts DateTime('UTC'), tags Array(String), note Nullable(String)" +
	") ENGINE = MergeTree() ORDER BY id"

func TestInsertConvertsValues(t *testing.T) {
	db := openDB(t)
	require.NoError(t, db.Exec(t.Context(), insertTable))

	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	note := "n"
	err := db.Insert(t.Context(), store.Insert{
		Table: "ins",
		// Columns in a different order from the table's.
		Columns: []string{"s", "id", "n", "f", "ts", "tags", "note"},
		Rows: [][]any{
			// int widths the driver would refuse; a string time; []any tags
			{"a", 1, int64(-2), 3, at, []string{"x", "y"}, nil},
			{"b", uint32(2), int8(5), float32(0.5), "2024-05-06 07:08:09", []any{"z"}, &note},
			{42, uint64(3), 0, 1.25, at.In(time.FixedZone("X", 7200)), []string{}, "m"},
		},
	})
	require.NoError(t, err)

	rows, err := db.Query(t.Context(), "SELECT id, n, s, f, ts, tags, note FROM ins ORDER BY id")
	require.NoError(t, err)
	defer rows.Close()
	type row struct {
		id   uint64
		n    int64
		s    string
		f    float64
		ts   time.Time
		tags []string
		note *string
	}
	var got []row
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.id, &r.n, &r.s, &r.f, &r.ts, &r.tags, &r.note))
		got = append(got, r)
	}
	require.NoError(t, rows.Err())
	m := "m"
	assert.Equal(t, []row{
		{1, -2, "a", 3, at, []string{"x", "y"}, nil},
		{2, 5, "b", 0.5, at, []string{"z"}, &note},
		{3, 0, "42", 1.25, at, []string{}, &m},
	}, got)
}

func TestInsertRejectsBadValuesWhole(t *testing.T) {
	db := openDB(t)
	require.NoError(t, db.Exec(t.Context(), insertTable))
	tests := []struct {
		name string
		rows [][]any
	}{
		{"negative into UInt64", [][]any{{uint64(1), 0}, {-1, 0}}},
		{"overflow Int32", [][]any{{uint64(1), 0}, {uint64(2), int64(1) << 40}}},
		{"fraction into integer", [][]any{{uint64(1), 0}, {uint64(2), 1.5}}},
		{"unsupported type", [][]any{{uint64(1), 0}, {uint64(2), struct{}{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.Insert(t.Context(), store.Insert{Table: "ins", Columns: []string{"id", "n"}, Rows: tt.rows})
			require.Error(t, err)
			assert.Equal(t, errs.KindInternal, errs.KindOf(err))
			var n uint64
			require.NoError(t, db.QueryRow(t.Context(), []any{&n}, "SELECT count() FROM ins"))
			assert.Equal(t, uint64(0), n, "an aborted batch writes nothing, not even its good rows")
		})
	}

	t.Run("unknown column is an engine error", func(t *testing.T) {
		err := db.Insert(t.Context(), store.Insert{Table: "ins", Columns: []string{"nope"}, Rows: [][]any{{1}}})
		var ex *store.Exception
		require.ErrorAs(t, err, &ex)
		assert.Equal(t, 16, ex.Code) // NO_SUCH_COLUMN_IN_TABLE
	})
	t.Run("unknown table is an engine error", func(t *testing.T) {
		err := db.Insert(t.Context(), store.Insert{Table: "nope", Columns: []string{"id"}, Rows: [][]any{{1}}})
		var ex *store.Exception
		require.ErrorAs(t, err, &ex)
		assert.Equal(t, store.CodeUnknownTable, ex.Code)
	})
}
