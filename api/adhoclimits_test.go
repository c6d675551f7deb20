package api_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
)

// Issue 18 items 2 and 7 at the GraphQL edge: an oversized ad-hoc result
// and engine errors of the caller's own SQL are BAD_USER_INPUT with what
// to change, never INTERNAL, and nothing is logged as an internal error.
func TestEventsQueryUserErrorsAtTheEdge(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	now := time.Now().UTC()
	for i := range 20 {
		h.insertEvents("tenant-a", event{fmt.Sprintf("a%d", i), "user.login", now.Add(-time.Hour)})
	}
	analyst := h.token("tenant-a", auth.RoleAnalyst)
	q := `query($sql: String!) { eventsQuery(sql: $sql, limit: 100) { rows } }`
	for _, tc := range []struct {
		name, sql string
		ext       map[string]any
		says      string
	}{
		{"100 rows of 1 MB", "SELECT repeat('x', 1000000) AS s FROM events LIMIT 100",
			map[string]any{"code": "BAD_USER_INPUT", "reason": "RESULT_TOO_LARGE", "maxResultBytes": 16777216.0}, "larger than 16 MiB"},
		{"too large string", "SELECT repeat('x', 1000000000000) FROM events LIMIT 1",
			map[string]any{"code": "BAD_USER_INPUT", "engineError": "TOO_LARGE_STRING_SIZE"}, "Too large string size"},
		{"bad uuid", "SELECT toUUID('x')",
			map[string]any{"code": "BAD_USER_INPUT", "engineError": "CANNOT_PARSE_UUID"}, "Cannot parse uuid x"},
		{"bad cast", "SELECT CAST(type AS UInt8) FROM events",
			map[string]any{"code": "BAD_USER_INPUT", "engineError": "CANNOT_PARSE_TEXT"}, "as UInt8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.query(analyst, q, map[string]any{"sql": tc.sql})
			require.Len(t, res.Errors, 1, "%s", res.Data)
			for k, v := range tc.ext {
				assert.Equal(t, v, res.Errors[0].Extensions[k], k)
			}
			assert.Contains(t, res.Errors[0].Message, tc.says)
			assert.NotContains(t, res.Errors[0].Message, "tenant_id", "no printed SQL")
		})
	}
	assert.NotContains(t, h.logs.String(), "internal error", "a user's own mistake is not logged as ours")
}
