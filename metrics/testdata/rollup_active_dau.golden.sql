-- path: rollup
SELECT toUnixTimestamp(toDateTime((day), 'UTC')) AS b, toUInt8(0) AS gb, if(users_n > 0, users_n, finalizeAggregation(users)) AS m0
FROM `metrics_daily_active` FINAL WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) UNION ALL SELECT toUInt32(0) AS b, toUInt8(1) AS gb, uniqExactMerge(s0) AS m0
FROM (SELECT toUInt8(0) AS k, uniqExactMergeState(users) AS s0
FROM `metrics_daily_active` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) UNION ALL SELECT toUInt8(0) AS k, uniqExactMergeState(users) AS s0
FROM `metrics_daily_active` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?))
-- arg 0: "acme"
-- arg 1: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 2: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 3: "acme"
-- arg 4: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 5: time.Date(2026, time.January, 16, 0, 0, 0, 0, time.UTC)
-- arg 6: "acme"
-- arg 7: time.Date(2026, time.January, 16, 0, 0, 0, 0, time.UTC)
-- arg 8: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
