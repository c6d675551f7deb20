-- path: raw
WITH (user_id IN (SELECT user_id
FROM `cohort_users` WHERE `tenant_id` = ? AND cohort_id = ? AND version = (SELECT max(version)
FROM `cohort_evaluations` FINAL WHERE `tenant_id` = ? AND cohort_id = ? AND error = ''))) AS cf0, (user_id IN (SELECT user_id
FROM `cohort_users` WHERE `tenant_id` = ? AND cohort_id = ? AND version = (SELECT max(version)
FROM `cohort_evaluations` FINAL WHERE `tenant_id` = ? AND cohort_id = ? AND error = ''))) AS cf1, (user_id IN (SELECT user_id
FROM `cohort_users` WHERE `tenant_id` = ? AND cohort_id = ? AND version = (SELECT max(version)
FROM `cohort_evaluations` FINAL WHERE `tenant_id` = ? AND cohort_id = ? AND error = ''))) AS cb SELECT toUnixTimestamp(toDateTime(toStartOfDay(toDateTime(occurred_at, ?)), ?)) AS b, ifNull(accurateCastOrNull(`properties`.`course_id`, 'String'), '') AS d0, if(cb, 'in cohort', 'not in cohort') AS d1, grouping(b) AS gb, grouping(d0) AS gd, cityHash64(d0, d1) AS h, countIf(type IN ?) AS m0
FROM `events` FINAL WHERE `tenant_id` = ? AND occurred_at >= ? AND occurred_at < ? AND type IN ? AND cf0 AND NOT cf1 GROUP BY d0, d1, b WITH ROLLUP HAVING grouping(d0) = grouping(d1)
-- arg 0: "acme"
-- arg 1: "c-keen"
-- arg 2: "acme"
-- arg 3: "c-keen"
-- arg 4: "acme"
-- arg 5: "c-staff"
-- arg 6: "acme"
-- arg 7: "c-staff"
-- arg 8: "acme"
-- arg 9: "c-new"
-- arg 10: "acme"
-- arg 11: "c-new"
-- arg 12: "UTC"
-- arg 13: "UTC"
-- arg 14: []string{"course.enrolled"}
-- arg 15: "acme"
-- arg 16: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 17: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 18: []string{"course.enrolled"}
