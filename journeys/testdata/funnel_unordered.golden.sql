SELECT if(rk <= ?, toNullable(b), NULL) AS bb, grouping(bb) AS total, sum(c1), sum(c2), sum(c3), sum(c4), sum(c5)
  FROM (SELECT b, countIf(r >= 1) AS c1, countIf(r >= 2) AS c2, countIf(r >= 3) AS c3, countIf(r >= 4) AS c4, countIf(r >= 5) AS c5, row_number() OVER (ORDER BY c1 DESC, b) AS rk
  FROM (SELECT user_id, toUInt8(arrayMax(arrayMap((m, t, n1, n2, n3, n4, n5) -> if(bitAnd(m, 31) != 0, (n1 > 0 AND n1 - t <= ?) + (n2 > 0 AND n2 - t <= ?) + (n3 > 0 AND n3 - t <= ?) + (n4 > 0 AND n4 - t <= ?) + (n5 > 0 AND n5 - t <= ?), 0), ms, ts, nx1, nx2, nx3, nx4, nx5))) AS r, ts[arrayFirstIndex(m -> bitAnd(m, 31) != 0, ms)] AS entry, vs[arrayFirstIndex(m -> bitAnd(m, 31) != 0, ms)] AS b
  FROM (SELECT user_id, arrayMap(x -> x.1, evs) AS ms, arrayMap(k -> intDiv(k, 1024) + ?, ms) AS ts, arrayMap(x -> x.2, evs) AS vs, arrayReverseFill(x -> x > 0, arrayMap((m, t) -> if(bitTest(m, 0), t, 0), ms, ts)) AS nx1, arrayReverseFill(x -> x > 0, arrayMap((m, t) -> if(bitTest(m, 1), t, 0), ms, ts)) AS nx2, arrayReverseFill(x -> x > 0, arrayMap((m, t) -> if(bitTest(m, 2), t, 0), ms, ts)) AS nx3, arrayReverseFill(x -> x > 0, arrayMap((m, t) -> if(bitTest(m, 3), t, 0), ms, ts)) AS nx4, arrayReverseFill(x -> x > 0, arrayMap((m, t) -> if(bitTest(m, 4), t, 0), ms, ts)) AS nx5
  FROM (SELECT user_id, arraySort(groupArray((k, v))) AS evs
  FROM (SELECT user_id, toUnixTimestamp64Milli(occurred_at) AS t, toUInt64(if((type = ?), 1, 0) + if((type = ?), 2, 0) + if((type = ? AND ifNull(has(?, accurateCastOrNull(`properties`.`course_id`, 'String')), 0)), 4, 0) + if((type = ? AND ifNull(toFloat64OrNull(accurateCastOrNull(`properties`.`score`, 'String')) >= ?, 0)), 8, 0) + if((type = ?), 16, 0)) AS m, if(bitAnd(m, 31) = 0, 31, bitCount(bitXor(bitAnd(m, 31), bitAnd(m, 31) - 1))) * 32 + m + toUInt64(t - ?) * 1024 AS k, ifNull(accurateCastOrNull(`properties`.`course_id`, 'String'), '') AS v FROM `events` FINAL WHERE `tenant_id` = ? AND occurred_at >= ? AND occurred_at < ? AND user_id != '' AND type IN ?) WHERE m != 0 GROUP BY user_id)) WHERE r > 0) GROUP BY b) GROUP BY ROLLUP(bb) ORDER BY total DESC, sum(c1) DESC, bb
-- args:
--   10
--   1209600000
--   1209600000
--   1209600000
--   1209600000
--   1209600000
--   1777723200000
--   course.enrolled
--   lesson.started
--   lesson.completed
--   [c1 c2]
--   quiz.submitted
--   60
--   course.completed
--   1777723200000
--   acme
--   2026-05-02 12:00:00 +0000 UTC
--   2026-06-01 12:00:00 +0000 UTC
--   [course.enrolled lesson.started lesson.completed quiz.submitted course.completed]
