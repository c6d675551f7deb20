package sqlparse

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// roundTrip parses src, prints it, parses the print and prints again: the
// two prints must be equal (the printer's output is a fixed point).
func roundTrip(t *testing.T, src string) string {
	t.Helper()
	q, err := Parse(src, Limits{})
	require.NoError(t, err, src)
	p1, err := Format(q)
	require.NoError(t, err, src)
	q2, err := Parse(p1, Limits{})
	require.NoError(t, err, "reparse of %s", p1)
	p2, err := Format(q2)
	require.NoError(t, err)
	assert.Equal(t, p1, p2, "print is not stable for %s", src)
	return p1
}

func TestRoundTripCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"select 1", "SELECT 1"},
		{"SELECT a, b AS c, count(*) n FROM events e WHERE x = 'it''s' AND y IN (1, 2)",
			"SELECT `a`, `b` AS `c`, count(*) AS `n` FROM `events` AS `e` WHERE ((`x` = 'it\\'s') AND (`y` IN (1, 2)))"},
		{"SELECT quantile(0.9)(x), uniqExactIf(u, t = 'a') FROM events GROUP BY 1 WITH TOTALS ORDER BY 1 DESC LIMIT 5",
			"SELECT quantile(0.9)(`x`), uniqExactIf(`u`, (`t` = 'a')) FROM `events` GROUP BY 1 WITH TOTALS ORDER BY 1 DESC LIMIT 5"},
		{"SELECT properties.score.:Int64, e.properties.a.b FROM events AS e", "SELECT `properties`.`score`.:Int64, `e`.`properties`.`a`.`b` FROM `events` AS `e`"},
		{"SELECT x ? 1 : 2, -x, - 5, CAST(x AS Nullable(DateTime64(3, 'UTC'))), x::String", "SELECT if(`x`, 1, 2), -(`x`), -5, CAST(`x` AS Nullable(DateTime64(3, 'UTC'))), CAST(`x` AS String)"},
		{"SELECT arrayMap(x -> x * 2, [1, 2]), arrayFilter((a, b) -> a > b, p, q), (1, 'a').2, arr[1]",
			"SELECT arrayMap(`x` -> (`x` * 2), [1, 2]), arrayFilter((`a`, `b`) -> (`a` > `b`), `p`, `q`), tupleElement(tuple(1, 'a'), 2), `arr`[1]"},
		{"WITH t AS (SELECT 1 AS a), 5 AS k SELECT * FROM t LEFT JOIN events AS e USING a UNION ALL SELECT 2, 3",
			"(WITH `t` AS (SELECT 1 AS `a`), 5 AS `k` SELECT * FROM `t` LEFT JOIN `events` AS `e` USING (`a`)) UNION ALL (SELECT 2, 3)"},
		{"SELECT CASE WHEN a BETWEEN 1 AND 2 THEN 'x' ELSE NULL END, b NOT LIKE '%a', c IS NOT NULL, now() - INTERVAL 7 DAY",
			"SELECT CASE WHEN (`a` BETWEEN 1 AND 2) THEN 'x' ELSE NULL END, (`b` NOT LIKE '%a'), (`c` IS NOT NULL), (now() - INTERVAL (7) DAY)"},
		{"SELECT a FROM t ANY LEFT JOIN u ON t.a = u.a ORDER BY a WITH FILL FROM 1 TO 10 STEP 1 LIMIT 1 BY a LIMIT 10 OFFSET 2",
			"SELECT `a` FROM `t` LEFT ANY JOIN `u` ON (`t`.`a` = `u`.`a`) ORDER BY `a` WITH FILL FROM 1 TO 10 STEP 1 LIMIT 1 BY `a` LIMIT 10 OFFSET 2"},
		{"SELECT row_number() OVER (PARTITION BY u ORDER BY t) FROM events;", "SELECT row_number() OVER (PARTITION BY `u` ORDER BY `t`) FROM `events`"},
		{"SELECT 0.5, .5e3, 0x1F, 18446744073709551615, -9223372036854775808", "SELECT 0.5, 500.0, 31, 18446744073709551615, -9223372036854775808"},
	} {
		assert.Equal(t, tc.want, roundTrip(t, tc.in), tc.in)
	}
}
