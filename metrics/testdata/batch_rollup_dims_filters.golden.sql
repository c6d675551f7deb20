-- path: rollup
SELECT toUnixTimestamp(toDateTime((day), 'UTC')) AS b, `course_id` AS d0, grouping(day) AS gb, grouping(d0) AS gd, cityHash64(d0) AS h, sumIf(events, type IN ?) AS m0, sumIf(events, type IN ?) AS m1, uniqExactMerge(users) AS m2
FROM (SELECT tenant_id, day, type, course_id, events, users, score_sum, score_n, score_min, score_max, seconds_sum, seconds_n, seconds_min, seconds_max
FROM `metrics_daily` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) AND day GLOBAL NOT IN (SELECT w.day
FROM (SELECT day, max(written_at) AS written
FROM `metrics_daily_writes` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) GROUP BY day) AS w GLOBAL LEFT JOIN (SELECT day, max(rebuilt_at) AS rebuilt
FROM `metrics_daily_rebuilds` WHERE (`tenant_id` = ? OR tenant_id = '') AND day >= toDate(?) AND day < toDate(?) GROUP BY day) AS r USING (day) WHERE w.written >= ifNull(r.rebuilt, toDateTime64(0, 3, 'UTC'))) UNION ALL SELECT tenant_id, toDate(occurred_at) AS day, type, ifNull(accurateCastOrNull(properties.`course_id`, 'String'), '') AS course_id, toUInt64(count()) AS events, uniqExactState(user_id) AS users, toFloat64(0) AS score_sum, toUInt64(0) AS score_n, CAST(NULL, 'Nullable(Float64)') AS score_min, CAST(NULL, 'Nullable(Float64)') AS score_max, toFloat64(0) AS seconds_sum, toUInt64(0) AS seconds_n, CAST(NULL, 'Nullable(Float64)') AS seconds_min, CAST(NULL, 'Nullable(Float64)') AS seconds_max
FROM `events` FINAL WHERE `tenant_id` = ? AND (toDate(occurred_at) = toDate(?) AND occurred_at >= ? AND occurred_at < ? OR toDate(occurred_at) BETWEEN toDate(?) AND toDate(?) AND occurred_at >= ? AND occurred_at < ? OR toDate(occurred_at) GLOBAL IN (SELECT w.day
FROM (SELECT day, max(written_at) AS written
FROM `metrics_daily_writes` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) GROUP BY day) AS w GLOBAL LEFT JOIN (SELECT day, max(rebuilt_at) AS rebuilt
FROM `metrics_daily_rebuilds` WHERE (`tenant_id` = ? OR tenant_id = '') AND day >= toDate(?) AND day < toDate(?) GROUP BY day) AS r USING (day) WHERE w.written >= ifNull(r.rebuilt, toDateTime64(0, 3, 'UTC')))) GROUP BY tenant_id, day, type, course_id) WHERE `tenant_id` = ? AND day >= toDate(?) AND day <= toDate(?) AND `type` != ? GROUP BY d0, day WITH ROLLUP
-- arg 0: []string{"course.enrolled"}
-- arg 1: []string{"course.completed"}
-- arg 2: "acme"
-- arg 3: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 4: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 5: "acme"
-- arg 6: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 7: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 8: "acme"
-- arg 9: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 10: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 11: "acme"
-- arg 12: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 13: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 14: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 15: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 16: time.Date(2026, time.January, 31, 23, 59, 59, 999000000, time.UTC)
-- arg 17: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 18: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 19: "acme"
-- arg 20: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 21: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 22: "acme"
-- arg 23: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 24: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 25: "acme"
-- arg 26: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 27: time.Date(2026, time.January, 31, 23, 59, 59, 999000000, time.UTC)
-- arg 28: "x"
