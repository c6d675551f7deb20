-- path: raw
SELECT toUnixTimestamp(toDateTime(toMonday(toDateTime(occurred_at, ?)), ?)) AS b, grouping(b) AS gb, avgIf(accurateCastOrNull(`properties`.`score`, 'Float64'), type IN ?) AS m0
FROM `events` FINAL WHERE `tenant_id` = ? AND occurred_at >= ? AND occurred_at < ? AND type IN ? GROUP BY b WITH ROLLUP
-- arg 0: "Europe/Berlin"
-- arg 1: "Europe/Berlin"
-- arg 2: []string{"quiz.submitted"}
-- arg 3: "acme"
-- arg 4: time.Date(2026, time.January, 2, 0, 0, 0, 0, time.UTC)
-- arg 5: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 6: []string{"quiz.submitted"}
