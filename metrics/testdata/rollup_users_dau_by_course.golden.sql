-- path: rollup
SELECT toUnixTimestamp(toDateTime((day), 'UTC')) AS b, `course_id` AS d0, toUInt8(0) AS gb, toUInt8(0) AS gd, cityHash64(d0) AS h, if(users_n > 0, users_n, finalizeAggregation(users)) AS m0
FROM `metrics_daily_users` FINAL WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) UNION ALL SELECT toUInt32(0) AS b, d0, toUInt8(1) AS gb, grouping(d0) AS gd, cityHash64(d0) AS h, uniqExactMerge(s0) AS m0
FROM (SELECT `course_id` AS d0, uniqExactMergeState(users) AS s0
FROM `metrics_daily_users` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) GROUP BY d0 UNION ALL SELECT `course_id` AS d0, uniqExactMergeState(users) AS s0
FROM `metrics_daily_users` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) GROUP BY d0) GROUP BY d0 WITH ROLLUP
-- arg 0: "acme"
-- arg 1: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 2: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 3: "acme"
-- arg 4: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 5: time.Date(2026, time.January, 16, 0, 0, 0, 0, time.UTC)
-- arg 6: "acme"
-- arg 7: time.Date(2026, time.January, 16, 0, 0, 0, 0, time.UTC)
-- arg 8: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
