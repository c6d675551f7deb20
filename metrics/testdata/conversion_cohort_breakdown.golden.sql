-- path: raw
WITH (user_id IN (SELECT user_id
FROM `cohort_users` WHERE `tenant_id` = ? AND cohort_id = ? AND version = (SELECT max(version)
FROM `cohort_evaluations` FINAL WHERE `tenant_id` = ? AND cohort_id = ? AND error = ''))) AS cf0, (user_id IN (SELECT user_id
FROM `cohort_users` WHERE `tenant_id` = ? AND cohort_id = ? AND version = (SELECT max(version)
FROM `cohort_evaluations` FINAL WHERE `tenant_id` = ? AND cohort_id = ? AND error = ''))) AS cb SELECT toUnixTimestamp(toDateTime(toMonday(toDateTime(s, ?)), ?)) AS b, if(cb, 'in cohort', 'not in cohort') AS d0, grouping(b) AS gb, grouping(d0) AS gd, cityHash64(d0) AS h, countIf(level >= 1) AS m0, countIf(level = 2) AS m1
FROM (SELECT tenant_id, user_id, minIf(occurred_at, type = ?) AS s, windowFunnel(604800)(toDateTime(occurred_at), type = ? AND occurred_at < ?, type = ?) AS level
FROM `events` FINAL WHERE `tenant_id` = ? AND occurred_at >= ? AND occurred_at < ? AND type IN ? GROUP BY tenant_id, user_id) WHERE `tenant_id` = ? AND level >= 1 AND s >= ? AND s < ? AND NOT cf0 GROUP BY d0, b WITH ROLLUP
-- arg 0: "acme"
-- arg 1: "c-staff"
-- arg 2: "acme"
-- arg 3: "c-staff"
-- arg 4: "acme"
-- arg 5: "c-new"
-- arg 6: "acme"
-- arg 7: "c-new"
-- arg 8: "UTC"
-- arg 9: "UTC"
-- arg 10: "course.enrolled"
-- arg 11: "course.enrolled"
-- arg 12: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
-- arg 13: "course.completed"
-- arg 14: "acme"
-- arg 15: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 16: time.Date(2026, time.February, 8, 0, 0, 0, 0, time.UTC)
-- arg 17: []string{"course.enrolled", "course.completed"}
-- arg 18: "acme"
-- arg 19: time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
-- arg 20: time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
