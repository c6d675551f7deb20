-- path: raw
SELECT toUnixTimestamp(toDateTime(toMonday(toDateTime(s, ?)), ?)) AS b, x0 AS d0, grouping(b) AS gb, grouping(d0) AS gd, cityHash64(d0) AS h, countIf(level >= 1) AS m0, countIf(level = 2) AS m1
FROM (SELECT tenant_id, user_id, minIf(occurred_at, type = ?) AS s, argMinIf(ifNull(accurateCastOrNull(`properties`.`course_id`, 'String'), ''), occurred_at, type = ?) AS x0, windowFunnel(604800)(toDateTime(occurred_at), type = ? AND occurred_at < ?, type = ?) AS level
FROM `events` FINAL WHERE `tenant_id` = ? AND occurred_at >= ? AND occurred_at < ? AND type IN ? GROUP BY tenant_id, user_id) WHERE `tenant_id` = ? AND level >= 1 AND s >= ? AND s < ? GROUP BY d0, b WITH ROLLUP
-- arg 0: "UTC"
-- arg 1: "UTC"
-- arg 2: "course.enrolled"
-- arg 3: "course.enrolled"
-- arg 4: "course.enrolled"
-- arg 5: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 6: "course.completed"
-- arg 7: "acme"
-- arg 8: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 9: time.Date(2026, time.February, 8, 0, 0, 0, 0, time.UTC)
-- arg 10: []string{"course.enrolled", "course.completed"}
-- arg 11: "acme"
-- arg 12: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 13: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
