package chembedded

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/store"
)

func TestTakesClause(t *testing.T) {
	cases := []struct {
		sql  string
		want bool
	}{
		{"SELECT 1", true},
		{"  select 1", true},
		{"WITH x AS (SELECT 1) SELECT * FROM x", true},
		{"(SELECT 1) UNION ALL (SELECT 2)", true},
		{"-- leading comment\nSELECT 1", true},
		{"/* block */ SELECT 1", true},
		{"# hash comment\nselect 1", true},
		{"EXPLAIN SELECT 1", true},
		{"DESCRIBE TABLE t", true},
		{"DESC t", true},
		{"CREATE TABLE t (x UInt8) ENGINE = Memory", false},
		{"ALTER TABLE t DELETE WHERE 1", false},
		{"INSERT INTO t VALUES (1)", false},
		{"INSERT INTO t SELECT 1", false},
		{"SHOW TABLES", false},
		{"SELECTED", false},
		{"-- only a comment", false},
		{"", false},
	}
	for _, c := range cases {
		t.Run(c.sql, func(t *testing.T) {
			assert.Equal(t, c.want, takesClause(c.sql))
		})
	}
}

func TestAppendClause(t *testing.T) {
	assert.Equal(t, "SELECT 1\nSETTINGS a = 1", appendClause("SELECT 1;  \n", "a = 1"))
	assert.Equal(t, "SELECT 1 -- note\nSETTINGS a = 1", appendClause("SELECT 1 -- note", "a = 1"))
	assert.Equal(t, "SELECT 1;", appendClause("SELECT 1;", ""))
}

func TestSettingsList(t *testing.T) {
	got, err := settingsList(store.Settings{
		"max_result_rows":      5,
		"result_overflow_mode": "throw",
		"log_comment":          "it's a \\ test",
		"readonly":             true,
		"max_execution_time":   2.5,
		"max_threads":          uint64(4),
		"timeout_before_check": 3 * time.Second,
	})
	require.NoError(t, err)
	assert.Equal(t, `log_comment = 'it\'s a \\ test', max_execution_time = 2.5, max_result_rows = 5, max_threads = 4, readonly = 1, result_overflow_mode = 'throw', timeout_before_check = 3`, got)

	empty, err := settingsList(nil)
	require.NoError(t, err)
	assert.Empty(t, empty)

	bad := []store.Settings{
		{"max_threads = 1, readonly": 0},
		{"Max_Threads": 1},
		{"": 1},
		{"x": math.NaN()},
		{"x": []string{"a"}},
	}
	for _, s := range bad {
		_, err := settingsList(s)
		assert.Error(t, err, "%v", s)
	}
}

func TestRestoreList(t *testing.T) {
	got := restoreList(store.Settings{"session_timezone": "Asia/Tokyo", "max_threads": 1})
	assert.Equal(t, "max_threads = DEFAULT, session_timezone = 'UTC'", got)
}

func TestWithDeadline(t *testing.T) {
	s := store.Settings{"max_execution_time": 60}
	assert.Equal(t, s, withDeadline(context.Background(), s), "no deadline, no change")

	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	got := withDeadline(ctx, s)
	assert.Equal(t, int64(3), got["max_execution_time"], "rounded up to whole seconds")
	assert.Equal(t, 60, s["max_execution_time"], "the caller's map is not changed")

	tight := store.Settings{"max_execution_time": 1}
	assert.Equal(t, 1, withDeadline(ctx, tight)["max_execution_time"], "a tighter limit stays")

	unlimited := store.Settings{"max_execution_time": 0}
	assert.Equal(t, int64(3), withDeadline(ctx, unlimited)["max_execution_time"], "0 means unlimited, the deadline wins")

	past, cancel2 := context.WithTimeout(context.Background(), -time.Second)
	defer cancel2()
	assert.Equal(t, int64(1), withDeadline(past, nil)["max_execution_time"])
}
