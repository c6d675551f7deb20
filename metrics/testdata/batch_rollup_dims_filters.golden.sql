-- path: rollup
SELECT toUnixTimestamp(toDateTime((day), 'UTC')) AS b, `course_id` AS d0, grouping(day) AS gb, grouping(d0) AS gd, cityHash64(d0) AS h, sumIf(events, type IN ?) AS m0, sumIf(events, type IN ?) AS m1, uniqExactMerge(users) AS m2
FROM `metrics_daily` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) AND `type` != ? GROUP BY d0, day WITH ROLLUP
-- arg 0: []string{"course.enrolled"}
-- arg 1: []string{"course.completed"}
-- arg 2: "acme"
-- arg 3: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 4: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 5: "x"
