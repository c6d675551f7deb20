-- path: rollup
SELECT toUnixTimestamp(toDateTime((day), 'UTC')) AS b, `course_id` AS d0, grouping(day) AS gb, grouping(d0) AS gd, cityHash64(d0) AS h, uniqExactMerge(users) AS m0
FROM `metrics_daily_users` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) GROUP BY d0, day WITH ROLLUP
-- arg 0: "acme"
-- arg 1: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 2: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
