SELECT b, c, count(), countIf(arrayExists(x -> x >= c + 1 AND x <= c + 12, rets)), countIf(arrayExists(x -> x >= c + 2 AND x <= c + 12, rets)), countIf(arrayExists(x -> x >= c + 3 AND x <= c + 12, rets)), countIf(arrayExists(x -> x >= c + 4 AND x <= c + 12, rets)), countIf(arrayExists(x -> x >= c + 5 AND x <= c + 12, rets)), countIf(arrayExists(x -> x >= c + 6 AND x <= c + 12, rets)), countIf(arrayExists(x -> x >= c + 7 AND x <= c + 12, rets)), countIf(arrayExists(x -> x >= c + 8 AND x <= c + 12, rets)), countIf(arrayExists(x -> x >= c + 9 AND x <= c + 12, rets)), countIf(arrayExists(x -> x >= c + 10 AND x <= c + 12, rets)), countIf(arrayExists(x -> x >= c + 11 AND x <= c + 12, rets)), countIf(arrayExists(x -> x >= c + 12 AND x <= c + 12, rets))
  FROM (SELECT user_id, rets, arrayFilter(x -> x.2 >= ?, starts) AS inr, arrayFilter((x, d, i) -> i = 1 OR d != 0, inr, arrayDifference(arrayMap(x -> x.1, inr)), arrayEnumerate(inr)) AS cs
  FROM (SELECT user_id, arraySort(groupArrayIf((pd, t, v), st)) AS starts, groupUniqArrayIf(pd, rt) AS rets
  FROM (SELECT user_id, intDiv(toInt64(toMonday(toDateTime(occurred_at, ?))), 7) AS pd, toUnixTimestamp64Milli(occurred_at) AS t, (type = ?) AS st, (type = ?) AS rt, '' AS v FROM `events` FINAL WHERE `tenant_id` = ? AND occurred_at >= ? AND occurred_at < ? AND user_id != '' AND type IN ?) GROUP BY user_id)) ARRAY JOIN cs.1 AS c, cs.3 AS b GROUP BY b, c
-- args:
--   1773057600000
--   UTC
--   user.login
--   user.login
--   acme
--   2026-03-09 12:00:00 +0000 UTC
--   2026-06-01 12:00:00 +0000 UTC
--   [user.login]
