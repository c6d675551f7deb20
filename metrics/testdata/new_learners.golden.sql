-- path: raw
SELECT toUnixTimestamp(toDateTime(toStartOfMonth(toDateTime(occurred_at, ?)), ?)) AS b, grouping(b) AS gb, uniqExactIf(user_id, 1 AND (user_id, occurred_at) IN (SELECT user_id, min(occurred_at)
FROM `events` FINAL WHERE `tenant_id` = ? GROUP BY user_id)) AS m0
FROM `events` FINAL WHERE `tenant_id` = ? AND occurred_at >= ? AND occurred_at < ? GROUP BY b WITH ROLLUP
-- arg 0: "UTC"
-- arg 1: "UTC"
-- arg 2: "acme"
-- arg 3: "acme"
-- arg 4: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 5: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
