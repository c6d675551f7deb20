SELECT countIf(r >= 1) AS c1, countIf(r >= 2) AS c2, countIf(r >= 3) AS c3, countIf(r >= 4) AS c4, countIf(r >= 5) AS c5, quantilesExactIf(0.5, 0.9)(d2, r >= 2) AS mq2, mq2[1], mq2[2], quantilesExactIf(0.5, 0.9)(d3, r >= 3) AS mq3, mq3[1], mq3[2], quantilesExactIf(0.5, 0.9)(d4, r >= 4) AS mq4, mq4[1], mq4[2], quantilesExactIf(0.5, 0.9)(d5, r >= 5) AS mq5, mq5[1], mq5[2]
  FROM (SELECT user_id, toUInt8((P1 > 0) + (P2 > 0) + (P3 > 0) + (P4 > 0) + (P5 > 0)) AS r, if(P2 > 0, ts[P2] - ts[(P2 - 1)], -1) AS d2, if(P3 > 0, ts[P3] - ts[(P3 - 1)], -1) AS d3, if(P4 > 0, ts[P4] - ts[(P4 - 1)], -1) AS d4, if(P5 > 0, ts[P5] - ts[(P5 - 1)], -1) AS d5, ts[arrayFirstIndex(m -> bitTest(m, 0), ms)] AS entry, '' AS b
  FROM (SELECT user_id, evs AS ms, arrayMap(k -> intDiv(k, 1024) + ?, ms) AS ts, arrayMap((m, t) -> if(bitTest(m, 0), t, 0), ms, ts) AS v1, arrayFirstIndex(x -> x > 0, v1) AS P1, v1 AS s1, arrayPushFront(arrayPopBack(s1), 0) AS q1, arrayMap((m, s, t) -> if(bitTest(m, 1) AND s > 0 AND t - s <= ?, s, 0), ms, q1, ts) AS v2, arrayFirstIndex(x -> x > 0, v2) AS P2, v2 AS s2, arrayPushFront(arrayPopBack(s2), 0) AS q2, arrayMap((m, s, t) -> if(bitTest(m, 2) AND s > 0 AND t - s <= ?, s, 0), ms, q2, ts) AS v3, arrayFirstIndex(x -> x > 0, v3) AS P3, v3 AS s3, arrayPushFront(arrayPopBack(s3), 0) AS q3, arrayMap((m, s, t) -> if(bitTest(m, 3) AND s > 0 AND t - s <= ?, s, 0), ms, q3, ts) AS v4, arrayFirstIndex(x -> x > 0, v4) AS P4, v4 AS s4, arrayPushFront(arrayPopBack(s4), 0) AS q4, arrayMap((m, s, t) -> if(bitTest(m, 4) AND s > 0 AND t - s <= ?, s, 0), ms, q4, ts) AS v5, arrayFirstIndex(x -> x > 0, v5) AS P5
  FROM (SELECT user_id, arraySort(groupArray(k)) AS evs
  FROM (SELECT user_id, toUnixTimestamp64Milli(occurred_at) AS t, toUInt64(if((type = ?), 1, 0) + if((type = ?), 2, 0) + if((type = ? AND ifNull(has(?, accurateCastOrNull(`properties`.`course_id`, 'String')), 0)), 4, 0) + if((type = ? AND ifNull(toFloat64OrNull(accurateCastOrNull(`properties`.`score`, 'String')) >= ?, 0)), 8, 0) + if((type = ?), 16, 0)) AS m, if(bitAnd(m, 31) = 0, 31, bitCount(bitXor(bitAnd(m, 31), bitAnd(m, 31) - 1))) * 32 + m + toUInt64(t - ?) * 1024 AS k FROM `events` FINAL WHERE `tenant_id` = ? AND occurred_at >= ? AND occurred_at < ? AND user_id != '') GROUP BY user_id)) WHERE r > 0)
-- args:
--   1777723200000
--   1209600000
--   1209600000
--   1209600000
--   1209600000
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
