package store

import (
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// PageSize checks the page size of a listing: first is 1 to max, and 0
// means def. Anything else is KindInvalid naming the field "first" of op.
func PageSize(op string, first, def, max int) (int, error) {
	switch {
	case first < 0 || first > max:
		return 0, errs.Invalid(op, "first", fmt.Sprintf("first %d must be between 1 and %d", first, max))
	case first == 0:
		return def, nil
	}
	return first, nil
}

// KeysetPage extends sql, a SELECT ending in its WHERE conditions, to one
// page of a listing ordered newest first by (atCol, idCol): the rows after
// the KeysetCursor after (when not empty), in that order, first+1 of them
// (the extra row tells whether a next page exists; see KeysetTrim).
func KeysetPage(op, sql string, args []any, atCol, idCol string, first int, after string) (string, []any, error) {
	if after != "" {
		at, id, err := DecodeKeysetCursor(op, after)
		if err != nil {
			return "", nil, err
		}
		sql += " AND (" + atCol + ", " + idCol + ") < (?, ?)"
		args = append(args, at, id)
	}
	return sql + " ORDER BY " + atCol + " DESC, " + idCol + " DESC LIMIT ?", append(args, first+1), nil
}

// KeysetTrim cuts the rows of a KeysetPage query to first and, when there
// were more, reports a next page and the cursor of the last row kept
// (key returns a row's time and id).
func KeysetTrim[T any](rows []T, first int, key func(T) (time.Time, string)) (page []T, hasNext bool, endCursor string) {
	if len(rows) <= first {
		return rows, false, ""
	}
	at, id := key(rows[first-1])
	return rows[:first], true, KeysetCursor(at, id)
}
