package store

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// KeysetCursor is the opaque paging cursor of a listing ordered by
// (time DESC, id DESC): it names the last row of a page, and the next page
// continues with the rows before it (`(at, id) < (?, ?)`).
func KeysetCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMilli(), 10) + "|" + id))
}

// DecodeKeysetCursor reads a KeysetCursor; anything else is KindInvalid
// for the field "after" of op.
func DecodeKeysetCursor(op, s string) (time.Time, string, error) {
	bad := errs.Invalid(op, "after", "after is not a cursor from a previous page")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", bad
	}
	ms, id, ok := strings.Cut(string(raw), "|")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil {
		return time.Time{}, "", bad
	}
	return time.UnixMilli(n).UTC(), id, nil
}
