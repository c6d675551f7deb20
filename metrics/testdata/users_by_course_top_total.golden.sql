-- path: rollup
SELECT toUInt32(0) AS b, if(has(?, cityHash64(`course_id`)), `course_id`, '(other)') AS d0, toUInt8(1) AS gb, grouping(d0) AS gd, cityHash64(d0) AS h, uniqExactMerge(users) AS m0
FROM `metrics_daily_users` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) GROUP BY d0 WITH ROLLUP
-- arg 0: []uint64{0x1, 0x2, 0x3}
-- arg 1: "acme"
-- arg 2: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 3: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
