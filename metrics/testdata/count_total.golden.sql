-- path: rollup
SELECT toUInt32(0) AS b, toUInt8(1) AS gb, sumIf(events, type IN ?) AS m0
FROM `metrics_daily` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) AND type IN ?
-- arg 0: []string{"course.enrolled"}
-- arg 1: "acme"
-- arg 2: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 3: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 4: []string{"course.enrolled"}
