-- path: rollup
SELECT toUnixTimestamp(toDateTime((day), 'UTC')) AS b, grouping(day) AS gb, sumIf(`score_sum`, type IN ?) / nullIf(sumIf(`score_n`, type IN ?), 0) AS m0
FROM (SELECT tenant_id, day, type, course_id, events, users, score_sum, score_n, score_min, score_max, seconds_sum, seconds_n, seconds_min, seconds_max
FROM `metrics_daily` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) UNION ALL SELECT tenant_id, toDate(occurred_at) AS day, type, '' AS course_id, toUInt64(count()) AS events, uniqExactStateIf(user_id, 0) AS users, ifNull(sum(accurateCastOrNull(properties.`score`, 'Float64')), 0) AS score_sum, toUInt64(count(accurateCastOrNull(properties.`score`, 'Float64'))) AS score_n, min(accurateCastOrNull(properties.`score`, 'Float64')) AS score_min, max(accurateCastOrNull(properties.`score`, 'Float64')) AS score_max, toFloat64(0) AS seconds_sum, toUInt64(0) AS seconds_n, CAST(NULL, 'Nullable(Float64)') AS seconds_min, CAST(NULL, 'Nullable(Float64)') AS seconds_max
FROM `events` FINAL WHERE `tenant_id` = ? AND (toDate(occurred_at) = toDate(?) AND occurred_at >= ? AND occurred_at < ? OR toDate(occurred_at) BETWEEN toDate(?) AND toDate(?) AND occurred_at >= ? AND occurred_at < ?) AND type IN ? GROUP BY tenant_id, day, type, course_id) WHERE `tenant_id` = ? AND day >= toDate(?) AND day <= toDate(?) AND type IN ? GROUP BY day WITH ROLLUP
-- arg 0: []string{"quiz.submitted"}
-- arg 1: []string{"quiz.submitted"}
-- arg 2: "acme"
-- arg 3: time.Date(2026, time.January, 2, 0, 0, 0, 0, time.UTC)
-- arg 4: time.Date(2026, time.January, 31, 0, 0, 0, 0, time.UTC)
-- arg 5: "acme"
-- arg 6: time.Date(2026, time.January, 1, 7, 0, 0, 0, time.UTC)
-- arg 7: time.Date(2026, time.January, 1, 7, 0, 0, 0, time.UTC)
-- arg 8: time.Date(2026, time.January, 2, 0, 0, 0, 0, time.UTC)
-- arg 9: time.Date(2026, time.January, 31, 0, 0, 0, 0, time.UTC)
-- arg 10: time.Date(2026, time.January, 31, 22, 29, 59, 999000000, time.UTC)
-- arg 11: time.Date(2026, time.January, 31, 0, 0, 0, 0, time.UTC)
-- arg 12: time.Date(2026, time.January, 31, 22, 30, 0, 0, time.UTC)
-- arg 13: []string{"quiz.submitted"}
-- arg 14: "acme"
-- arg 15: time.Date(2026, time.January, 1, 7, 0, 0, 0, time.UTC)
-- arg 16: time.Date(2026, time.January, 31, 22, 29, 59, 999000000, time.UTC)
-- arg 17: []string{"quiz.submitted"}
