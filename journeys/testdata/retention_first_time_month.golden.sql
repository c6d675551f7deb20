SELECT b, c, count(), countIf(has(rets, c + 1)), countIf(has(rets, c + 2)), countIf(has(rets, c + 3)), countIf(has(rets, c + 4)), countIf(has(rets, c + 5)), countIf(has(rets, c + 6))
  FROM (SELECT user_id, rets, if(empty(starts) OR starts[1].2 < ?, [], [starts[1]]) AS cs
  FROM (SELECT user_id, arraySort(groupArrayIf((pd, t, v), st)) AS starts, groupUniqArrayIf(pd, rt) AS rets
  FROM (SELECT user_id, toInt64(toYear(toDateTime(occurred_at, ?))) * 12 + toMonth(toDateTime(occurred_at, ?)) - 1 AS pd, toUnixTimestamp64Milli(occurred_at) AS t, (type = ?) AS st, (type = ?) AS rt, ifNull(accurateCastOrNull(`properties`.`course_id`, 'String'), '') AS v FROM `events` FINAL WHERE `tenant_id` = ? AND occurred_at >= ? AND occurred_at < ? AND user_id != '' AND (occurred_at >= ? OR type = ?) AND type IN ?) GROUP BY user_id)) ARRAY JOIN cs.1 AS c, cs.3 AS b GROUP BY b, c
-- args:
--   1764763200000
--   Europe/Berlin
--   Europe/Berlin
--   course.enrolled
--   lesson.started
--   acme
--   1970-01-01 00:00:00 +0000 UTC
--   2026-06-01 12:00:00 +0000 UTC
--   2025-12-03 12:00:00 +0000 UTC
--   course.enrolled
--   [course.enrolled lesson.started]
