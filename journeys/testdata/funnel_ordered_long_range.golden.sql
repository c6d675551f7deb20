SELECT if(rk <= ?, toNullable(b), NULL) AS bb, grouping(bb) AS total, sum(c1), sum(c2), sum(c3), sum(c4), sum(c5), quantilesExactIfMerge(0.5, 0.9)(st2) AS mq2, mq2[1], mq2[2], quantilesExactIfMerge(0.5, 0.9)(st3) AS mq3, mq3[1], mq3[2], quantilesExactIfMerge(0.5, 0.9)(st4) AS mq4, mq4[1], mq4[2], quantilesExactIfMerge(0.5, 0.9)(st5) AS mq5, mq5[1], mq5[2]
  FROM (SELECT b, countIf(r >= 1) AS c1, countIf(r >= 2) AS c2, countIf(r >= 3) AS c3, countIf(r >= 4) AS c4, countIf(r >= 5) AS c5, quantilesExactIfState(0.5, 0.9)(d2, r >= 2) AS st2, quantilesExactIfState(0.5, 0.9)(d3, r >= 3) AS st3, quantilesExactIfState(0.5, 0.9)(d4, r >= 4) AS st4, quantilesExactIfState(0.5, 0.9)(d5, r >= 5) AS st5, row_number() OVER (ORDER BY c1 DESC, b) AS rk
  FROM (SELECT user_id, toUInt8((P1 > 0) + (P2 > 0) + (P3 > 0) + (P4 > 0) + (P5 > 0)) AS r, if(P2 > 0, ts[P2] - ts[arrayLastIndex(x -> x, arraySlice(mk1, 1, P2 - 1))], -1) AS d2, if(P3 > 0, ts[P3] - ts[arrayLastIndex(x -> x, arraySlice(mk2, 1, P3 - 1))], -1) AS d3, if(P4 > 0, ts[P4] - ts[arrayLastIndex(x -> x, arraySlice(mk3, 1, P4 - 1))], -1) AS d4, if(P5 > 0, ts[P5] - ts[arrayLastIndex(x -> x, arraySlice(mk4, 1, P5 - 1))], -1) AS d5, ts[arrayFirstIndex(m -> bitTest(m, 0), ms)] AS entry, if(r > 0, vs[[P1, P2, P3, P4, P5][r]], '') AS b
  FROM (SELECT user_id, arrayMap(x -> x.1, evs) AS ts, arrayMap(x -> x.2, evs) AS ms, arrayMap(x -> x.3, evs) AS vs, arrayMap((m, t) -> if(bitTest(m, 0), t, 0), ms, ts) AS v1, arrayFirstIndex(x -> x > 0, v1) AS P1, arrayMap((x, m) -> x > 0 OR bitAnd(m, 32) != 0, v1, ms) AS mk1, arrayFill((x, c) -> c, v1, mk1) AS s1, s1 AS q1, arrayMap((m, s, t) -> if(bitTest(m, 1) AND s > 0 AND t - s <= ?, s, 0), ms, q1, ts) AS v2, arrayFirstIndex(x -> x > 0, v2) AS P2, arrayMap((x, m) -> x > 0 OR bitAnd(m, 32) != 0, v2, ms) AS mk2, arrayFill((x, c) -> c, v2, mk2) AS s2, s2 AS q2, arrayMap((m, s, t) -> if(bitTest(m, 2) AND s > 0 AND t - s <= ?, s, 0), ms, q2, ts) AS v3, arrayFirstIndex(x -> x > 0, v3) AS P3, arrayMap((x, m) -> x > 0 OR bitAnd(m, 32) != 0, v3, ms) AS mk3, arrayFill((x, c) -> c, v3, mk3) AS s3, s3 AS q3, arrayMap((m, s, t) -> if(bitTest(m, 3) AND s > 0 AND t - s <= ?, s, 0), ms, q3, ts) AS v4, arrayFirstIndex(x -> x > 0, v4) AS P4, arrayMap((x, m) -> x > 0 OR bitAnd(m, 32) != 0, v4, ms) AS mk4, arrayFill((x, c) -> c, v4, mk4) AS s4, s4 AS q4, arrayMap((m, s, t) -> if(bitTest(m, 4) AND s > 0 AND t - s <= ?, s, 0), ms, q4, ts) AS v5, arrayFirstIndex(x -> x > 0, v5) AS P5
  FROM (SELECT user_id, arraySort(groupArray((t, k, v))) AS evs
  FROM (SELECT user_id, toUnixTimestamp64Milli(occurred_at) AS t, toUInt64(if((type = ?), 1, 0) + if((type = ?), 2, 0) + if((type = ? AND ifNull(has(?, accurateCastOrNull(`properties`.`course_id`, 'String')), 0)), 4, 0) + if((type = ? AND ifNull(toFloat64OrNull(accurateCastOrNull(`properties`.`score`, 'String')) >= ?, 0)), 8, 0) + if((type = ?), 16, 0) + if((type = ?), 32, 0)) AS m, if(bitAnd(m, 31) = 0, 31, bitCount(bitXor(bitAnd(m, 31), bitAnd(m, 31) - 1))) * 64 + m AS k, ifNull(accurateCastOrNull(`properties`.`course_id`, 'String'), '') AS v FROM `events` FINAL WHERE `tenant_id` = ? AND occurred_at >= ? AND occurred_at < ? AND user_id != '' AND (user_id IN (SELECT user_id FROM `cohort_users` WHERE `tenant_id` = ? AND cohort_id = ? AND version = (SELECT max(version) FROM `cohort_evaluations` FINAL WHERE `tenant_id` = ? AND cohort_id = ? AND error = ''))) AND type IN ?) WHERE m != 0 GROUP BY user_id)) WHERE r > 0) GROUP BY b) GROUP BY ROLLUP(bb) ORDER BY total DESC, sum(c1) DESC, bb
-- args:
--   5
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
--   course.dropped
--   acme
--   2026-05-02 12:00:00 +0000 UTC
--   2026-06-01 12:00:00 +0000 UTC
--   acme
--   cohort-7
--   acme
--   cohort-7
--   [course.enrolled lesson.started lesson.completed quiz.submitted course.completed course.dropped]
