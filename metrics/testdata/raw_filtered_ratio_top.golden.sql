-- path: raw
SELECT toUnixTimestamp(toDateTime(toMonday(toDateTime(occurred_at, ?)), ?)) AS b, if(has(?, cityHash64(ifNull(accurateCastOrNull(`properties`.`course_id`, 'String'), ''), `type`)), ifNull(accurateCastOrNull(`properties`.`course_id`, 'String'), ''), '(other)') AS d0, if(has(?, cityHash64(ifNull(accurateCastOrNull(`properties`.`course_id`, 'String'), ''), `type`)), `type`, '(other)') AS d1, grouping(b) AS gb, grouping(d0) AS gd, cityHash64(d0, d1) AS h, countIf(type IN ? AND accurateCastOrNull(`properties`.`score`, 'Float64') >= ?) AS m0, countIf(type IN ?) AS m1
FROM `events` FINAL WHERE `tenant_id` = ? AND occurred_at >= ? AND occurred_at < ? AND type IN ? GROUP BY d0, d1, b WITH ROLLUP HAVING grouping(d0) = grouping(d1)
-- arg 0: "UTC"
-- arg 1: "UTC"
-- arg 2: []uint64{0x1, 0x2, 0x3}
-- arg 3: []uint64{0x1, 0x2, 0x3}
-- arg 4: []string{"quiz.submitted"}
-- arg 5: 60
-- arg 6: []string{"quiz.submitted"}
-- arg 7: "acme"
-- arg 8: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 9: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 10: []string{"quiz.submitted"}
