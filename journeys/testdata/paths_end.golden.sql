SELECT it.1 AS kind, it.2 AS step, it.3 AS a, it.4 AS b, count() AS users
  FROM (SELECT arrayDistinct(arrayFlatten(arrayMap(path -> arrayConcat(arrayMap((x, j) -> (0, 4 - length(path) + j, x.2, ''), path, arrayEnumerate(path)), arrayMap((x, y, j) -> (1, 4 - length(path) + j, x.2, y.2), arrayPopBack(path), arrayPopFront(path), arrayEnumerate(arrayPopBack(path)))), arrayMap(s -> arraySlice(s, greatest(1, arrayFirstIndex(x -> x.4 = 1, s) - 4 + 1), least(arrayFirstIndex(x -> x.4 = 1, s), 4)), arrayFilter(s -> arrayExists(x -> x.4 = 1, s), sessions))))) AS items
  FROM (SELECT arraySplit((x, f) -> f, evs, arrayMap((x, y) -> if(x.3 != '' AND y.3 != '', x.3 != y.3, x.1 - y.1 > ?), evs, arrayPushFront(arrayPopBack(evs), evs[1]))) AS sessions
  FROM (SELECT user_id, arraySort(groupArray((t, type, session_id, a))) AS evs
  FROM (SELECT user_id, toUnixTimestamp64Milli(occurred_at) AS t, type, session_id, toUInt8((type = ? AND ifNull(toFloat64OrNull(accurateCastOrNull(`properties`.`score`, 'String')) >= ?, 0))) AS a FROM `events` FINAL WHERE `tenant_id` = ? AND occurred_at >= ? AND occurred_at < ? AND user_id != '') WHERE 1 AND (type NOT IN ? OR a = 1) GROUP BY user_id))) ARRAY JOIN items AS it GROUP BY kind, step, a, b HAVING kind = 0 OR users >= ?
-- args:
--   1800000
--   quiz.submitted
--   60
--   acme
--   2026-05-02 12:00:00 +0000 UTC
--   2026-06-01 12:00:00 +0000 UTC
--   [user.login]
--   3
