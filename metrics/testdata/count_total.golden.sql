-- path: rollup
SELECT toUInt32(0) AS b, toUInt8(1) AS gb, sumIf(events, type IN ?) AS m0
FROM (SELECT tenant_id, day, type, course_id, events, users, score_sum, score_n, score_min, score_max, seconds_sum, seconds_n, seconds_min, seconds_max
FROM `metrics_daily` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) AND day GLOBAL NOT IN (SELECT w.day
FROM (SELECT day, max(written_at) AS written
FROM `metrics_daily_writes` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) GROUP BY day) AS w GLOBAL LEFT JOIN (SELECT day, max(rebuilt_at) AS rebuilt
FROM `metrics_daily_rebuilds` WHERE (`tenant_id` = ? OR tenant_id = '') AND day >= toDate(?) AND day < toDate(?) GROUP BY day) AS r USING (day) WHERE w.written >= ifNull(r.rebuilt, toDateTime64(0, 3, 'UTC'))) UNION ALL SELECT tenant_id, toDate(occurred_at) AS day, type, '' AS course_id, toUInt64(count()) AS events, uniqExactStateIf(user_id, 0) AS users, toFloat64(0) AS score_sum, toUInt64(0) AS score_n, CAST(NULL, 'Nullable(Float64)') AS score_min, CAST(NULL, 'Nullable(Float64)') AS score_max, toFloat64(0) AS seconds_sum, toUInt64(0) AS seconds_n, CAST(NULL, 'Nullable(Float64)') AS seconds_min, CAST(NULL, 'Nullable(Float64)') AS seconds_max
FROM `events` FINAL WHERE `tenant_id` = ? AND (toDate(occurred_at) = toDate(?) AND occurred_at >= ? AND occurred_at < ? OR toDate(occurred_at) BETWEEN toDate(?) AND toDate(?) AND occurred_at >= ? AND occurred_at < ? OR toDate(occurred_at) GLOBAL IN (SELECT w.day
FROM (SELECT day, max(written_at) AS written
FROM `metrics_daily_writes` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) GROUP BY day) AS w GLOBAL LEFT JOIN (SELECT day, max(rebuilt_at) AS rebuilt
FROM `metrics_daily_rebuilds` WHERE (`tenant_id` = ? OR tenant_id = '') AND day >= toDate(?) AND day < toDate(?) GROUP BY day) AS r USING (day) WHERE w.written >= ifNull(r.rebuilt, toDateTime64(0, 3, 'UTC')))) AND type IN ? GROUP BY tenant_id, day, type, course_id) WHERE `tenant_id` = ? AND day >= toDate(?) AND day <= toDate(?) AND type IN ?
-- arg 0: []string{"course.enrolled"}
-- arg 1: "acme"
-- arg 2: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 3: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 4: "acme"
-- arg 5: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 6: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 7: "acme"
-- arg 8: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 9: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 10: "acme"
-- arg 11: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 12: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 13: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 14: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 15: time.Date(2026, time.January, 31, 23, 59, 59, 999000000, time.UTC)
-- arg 16: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 17: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 18: "acme"
-- arg 19: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 20: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 21: "acme"
-- arg 22: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 23: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 24: []string{"course.enrolled"}
-- arg 25: "acme"
-- arg 26: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 27: time.Date(2026, time.January, 31, 23, 59, 59, 999000000, time.UTC)
-- arg 28: []string{"course.enrolled"}
