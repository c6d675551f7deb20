-- path: rollup
SELECT toUnixTimestamp(toDateTime((day), 'UTC')) AS b, toUInt8(0) AS gb, sumIf(events, type IN ?) AS m0
FROM (SELECT tenant_id, day, type, course_id, events, users, score_sum, score_n, score_min, score_max, seconds_sum, seconds_n, seconds_min, seconds_max
FROM `metrics_daily` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) AND day NOT IN arrayMap(d -> toDate(d), ?) UNION ALL SELECT tenant_id, toDate(occurred_at) AS day, type, '' AS course_id, toUInt64(count()) AS events, uniqExactStateIf(user_id, 0) AS users, toFloat64(0) AS score_sum, toUInt64(0) AS score_n, CAST(NULL, 'Nullable(Float64)') AS score_min, CAST(NULL, 'Nullable(Float64)') AS score_max, toFloat64(0) AS seconds_sum, toUInt64(0) AS seconds_n, CAST(NULL, 'Nullable(Float64)') AS seconds_min, CAST(NULL, 'Nullable(Float64)') AS seconds_max
FROM `events` FINAL WHERE `tenant_id` = ? AND (toDate(occurred_at) = toDate(?) AND occurred_at >= ? AND occurred_at < ? OR toDate(occurred_at) BETWEEN toDate(?) AND toDate(?) AND occurred_at >= ? AND occurred_at < ? OR toDate(occurred_at) IN arrayMap(d -> toDate(d), ?)) AND type IN ? GROUP BY tenant_id, day, type, course_id) WHERE `tenant_id` = ? AND day >= toDate(?) AND day <= toDate(?) AND type IN ? GROUP BY day
-- arg 0: []string{"course.enrolled"}
-- arg 1: "acme"
-- arg 2: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 3: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 4: []string{"2026-01-05", "2026-01-09"}
-- arg 5: "acme"
-- arg 6: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 7: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 8: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 9: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 10: time.Date(2026, time.January, 31, 23, 59, 59, 999000000, time.UTC)
-- arg 11: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 12: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 13: []string{"2026-01-05", "2026-01-09"}
-- arg 14: []string{"course.enrolled"}
-- arg 15: "acme"
-- arg 16: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 17: time.Date(2026, time.January, 31, 23, 59, 59, 999000000, time.UTC)
-- arg 18: []string{"course.enrolled"}
