-- path: rollup
SELECT toUnixTimestamp(toDateTime(toMonday(day), 'UTC')) AS b, grouping(b) AS gb, uniqExactMerge(users) AS m0
FROM (SELECT tenant_id, day, users
FROM `metrics_daily_active` WHERE `tenant_id` = ? AND day >= toDate(?) AND day < toDate(?) UNION ALL SELECT tenant_id, toDate(occurred_at) AS day, uniqExactState(user_id) AS users
FROM `events` FINAL WHERE `tenant_id` = ? AND (toDate(occurred_at) = toDate(?) AND occurred_at >= ? AND occurred_at < ? OR toDate(occurred_at) BETWEEN toDate(?) AND toDate(?) AND occurred_at >= ? AND occurred_at < ?) GROUP BY tenant_id, day) WHERE `tenant_id` = ? AND day >= toDate(?) AND day <= toDate(?) GROUP BY b WITH ROLLUP
-- arg 0: "acme"
-- arg 1: time.Date(2026, time.January, 2, 0, 0, 0, 0, time.UTC)
-- arg 2: time.Date(2026, time.January, 31, 0, 0, 0, 0, time.UTC)
-- arg 3: "acme"
-- arg 4: time.Date(2026, time.January, 1, 7, 0, 0, 0, time.UTC)
-- arg 5: time.Date(2026, time.January, 1, 7, 0, 0, 0, time.UTC)
-- arg 6: time.Date(2026, time.January, 2, 0, 0, 0, 0, time.UTC)
-- arg 7: time.Date(2026, time.January, 31, 0, 0, 0, 0, time.UTC)
-- arg 8: time.Date(2026, time.January, 31, 22, 29, 59, 999000000, time.UTC)
-- arg 9: time.Date(2026, time.January, 31, 0, 0, 0, 0, time.UTC)
-- arg 10: time.Date(2026, time.January, 31, 22, 30, 0, 0, time.UTC)
-- arg 11: "acme"
-- arg 12: time.Date(2026, time.January, 1, 7, 0, 0, 0, time.UTC)
-- arg 13: time.Date(2026, time.January, 31, 22, 29, 59, 999000000, time.UTC)
