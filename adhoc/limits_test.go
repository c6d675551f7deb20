package adhoc_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/reqid"
	"github.com/learnhub/analytics-service/store/storetest"
)

// The attack: 100 rows of 1 MB each. The engine refuses it before
// building the result (max_result_bytes, throw) and the client learns the cap.
func TestRunResultTooLarge(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name     string
		maxBytes int64
		sql      string
		limit    int
	}{
		{"engine cap, default size", 0, "SELECT repeat('x', 1000000) AS s FROM events LIMIT 100", 100},
		{"engine cap, small", 64 << 10, "SELECT repeat('x', 1000) AS s FROM events", 1000},
		// LowCardinality strings travel as dictionary indexes, so the
		// engine counts ~1 byte a row; our own count of the decoded text
		// is what refuses this one.
		{"own count of decoded values", 4000, "SELECT type FROM events", 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := adhoc.NewService(f.full, adhoc.Config{MaxResultBytes: tc.maxBytes, MaxLimit: 1000})
			want := tc.maxBytes
			if want == 0 {
				want = adhoc.DefaultMaxResultBytes
			}
			res, err := svc.Run(as(tenantA), tc.sql, tc.limit)
			require.Error(t, err, "rows: %v", res)
			assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
			assert.Equal(t, adhoc.ReasonResultTooLarge, errs.PublicFields(err)["reason"])
			assert.Equal(t, want, errs.PublicFields(err)["maxResultBytes"])
			assert.Contains(t, errs.PublicMessage(err), "the cap on one ad-hoc result")
		})
	}
	t.Run("a result under the cap is whole", func(t *testing.T) {
		svc := adhoc.NewService(f.full, adhoc.Config{MaxResultBytes: 4000})
		res, err := svc.Run(as(tenantA), "SELECT type, count() FROM events GROUP BY type", 0)
		require.NoError(t, err)
		assert.Len(t, res.Rows, 9)
	})
}

// Engine errors the tenant's own SQL causes are BAD_USER_INPUT with the
// engine's explanation, never the printed SQL, the tenant guard or a path;
// they are logged at INFO without SQL.
func TestRunUserEngineErrors(t *testing.T) {
	f := newFixture(t)
	var logs bytes.Buffer
	svc := adhoc.NewService(f.full, adhoc.Config{MaxConcurrentPerTenant: 8,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	for _, tc := range []struct {
		name, sql, engineError, says string
	}{
		{"too large string", "SELECT repeat('x', 1000000000000) FROM events LIMIT 1", "TOO_LARGE_STRING_SIZE", "Too large string size (1000000000000) in function repeat"},
		{"bad uuid", "SELECT toUUID('x')", "CANNOT_PARSE_UUID", "Cannot parse uuid x"},
		{"bad uuid from a column", "SELECT toUUID(user_id) FROM events", "CANNOT_PARSE_UUID", "Cannot parse"},
		{"bad cast", "SELECT CAST('abc' AS UInt32)", "CANNOT_PARSE_TEXT", "Cannot parse string 'abc' as UInt32"},
		{"bad cast of a column", "SELECT toInt32(type) FROM events", "CANNOT_PARSE_TEXT", "as Int32"},
		{"bad regexp", "SELECT count() FROM events WHERE match(type, '(')", "CANNOT_COMPILE_REGEXP", "cannot compile re2"},
		{"wrong types", "SELECT 1 + 'a'", "ILLEGAL_TYPE_OF_ARGUMENT", "Illegal types Int64 and String of arguments of function plus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			ctx := reqid.With(as(tenantA), "req-"+strings.ReplaceAll(tc.name, " ", "-"))
			_, err := svc.Run(ctx, tc.sql, 0)
			require.Error(t, err)
			assert.Equal(t, errs.KindInvalid, errs.KindOf(err), "%v", err)
			msg := errs.PublicMessage(err)
			assert.Contains(t, msg, tc.says)
			assert.Equal(t, tc.engineError, errs.PublicFields(err)["engineError"])
			for _, leak := range []string{"SELECT", "tenant_id", "'" + tenantA + "'", "__table", "_CAST", "SETTINGS", "In scope"} {
				assert.NotContains(t, msg, leak, "the printed query never reaches the client")
			}
			var line map[string]any
			require.NoError(t, json.Unmarshal(logs.Bytes(), &line), "one JSON log line: %s", logs.String())
			assert.Equal(t, "INFO", line["level"])
			assert.Equal(t, "BAD_USER_INPUT", line["code"])
			assert.Equal(t, "req-"+strings.ReplaceAll(tc.name, " ", "-"), line["request_id"])
			assert.NotContains(t, logs.String(), "SELECT", "no SQL in the log line")
		})
	}
}

// An engine failure that is not the query's fault (here: the tables were
// never migrated) stays INTERNAL.
func TestRunOwnFaultStaysInternal(t *testing.T) {
	svc := adhoc.NewService(storetest.Embedded(t), adhoc.Config{})
	_, err := svc.Run(as(tenantA), "SELECT count() FROM events", 0)
	require.Error(t, err)
	assert.Equal(t, errs.KindInternal, errs.KindOf(err), "%v", err)
}
