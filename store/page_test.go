package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
)

func TestPageSize(t *testing.T) {
	n, err := PageSize("x.List", 0, 50, 200)
	require.NoError(t, err)
	assert.Equal(t, 50, n, "0 means the default")
	n, err = PageSize("x.List", 200, 50, 200)
	require.NoError(t, err)
	assert.Equal(t, 200, n)
	for _, bad := range []int{-1, 201} {
		_, err := PageSize("x.List", bad, 50, 200)
		require.Error(t, err)
		assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
		var e *errs.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "first", e.Fields["field"])
		assert.Contains(t, err.Error(), "must be between 1 and 200")
	}
}

func TestKeysetPageAndTrim(t *testing.T) {
	base := "SELECT * FROM t WHERE tenant_id = ?"
	sql, args, err := KeysetPage("x.List", base, []any{"acme"}, "created_at", "id", 2, "")
	require.NoError(t, err)
	assert.Equal(t, base+" ORDER BY created_at DESC, id DESC LIMIT ?", sql)
	assert.Equal(t, []any{"acme", 3}, args, "one row more than the page tells whether a next page exists")

	type row struct {
		at time.Time
		id string
	}
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	rows := []row{{t0, "c"}, {t0, "b"}, {t0.Add(-time.Minute), "z"}}
	key := func(r row) (time.Time, string) { return r.at, r.id }
	page, next, cursor := KeysetTrim(rows, 2, key)
	assert.Equal(t, rows[:2], page)
	assert.True(t, next)
	at, id, err := DecodeKeysetCursor("x.List", cursor)
	require.NoError(t, err)
	assert.Equal(t, t0, at)
	assert.Equal(t, "b", id, "the cursor names the last row kept")

	sql, args, err = KeysetPage("x.List", base, []any{"acme"}, "created_at", "id", 2, cursor)
	require.NoError(t, err)
	assert.Equal(t, base+" AND (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT ?", sql)
	assert.Equal(t, []any{"acme", t0, "b", 3}, args)

	page, next, cursor = KeysetTrim(rows[2:], 2, key)
	assert.Equal(t, rows[2:], page)
	assert.False(t, next)
	assert.Empty(t, cursor)

	_, _, err = KeysetPage("x.List", base, nil, "created_at", "id", 2, "not a cursor!")
	assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
}
