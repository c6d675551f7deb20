-- legit.sql: count all
-- args: []interface {}{"acme", 101}
SELECT count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` LIMIT ?;

-- legit.sql: count per type
-- args: []interface {}{"acme", 101}
SELECT `type`, count() AS `n` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` GROUP BY `type` ORDER BY `n` DESC, `type` LIMIT ?;

-- legit.sql: where type in list
-- args: []interface {}{"acme", "quiz.submitted", "video.watched", 101}
SELECT `type`, count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` IN (?, ?)) GROUP BY `type` ORDER BY `type` LIMIT ?;

-- legit.sql: interval arithmetic
-- args: []interface {}{"acme", "2026-04-15 00:00:00", 3, "UTC", 7, 101}
SELECT count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`occurred_at` < (toDateTime64(?, toUInt8(?), ?) - INTERVAL (?) DAY)) LIMIT ?;

-- legit.sql: quiz score quantile
-- args: []interface {}{0.9, "acme", "quiz.submitted", 101}
SELECT quantile(?)(`properties`.`score`.:Int64) AS `quantile(0.9)(\`properties\`.\`score\`.:Int64)` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = ?) LIMIT ?;

-- legit.sql: countIf combinator
-- args: []interface {}{"lesson.started", "lesson.completed", "acme", 101}
SELECT countIf((`type` = ?)) AS `countIf((\`type\` = 'lesson.started'))`, countIf((`type` = ?)) AS `countIf((\`type\` = 'lesson.completed'))` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` LIMIT ?;

-- legit.sql: group by position
-- args: []interface {}{"acme", 101}
SELECT `type`, count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` GROUP BY 1 ORDER BY 1 LIMIT ?;

-- legit.sql: with totals
-- args: []interface {}{"acme", 101}
SELECT `type`, count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` GROUP BY `type` WITH TOTALS ORDER BY `type` LIMIT ?;

-- legit.sql: limit by
-- args: []interface {}{"acme", 2, 101}
SELECT `user_id`, `event_id` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` ORDER BY `user_id`, `occurred_at`, `event_id` LIMIT ? BY `user_id` LIMIT ?;

-- legit.sql: order with fill
-- args: []interface {}{"acme", "2026-03-08 00:00:00", 1, 10, 101}
SELECT toDayOfMonth(`occurred_at`) AS `d`, count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`occurred_at` < ?) GROUP BY `d` ORDER BY `d` WITH FILL FROM ? TO ? LIMIT ?;

-- legit.sql: two ctes
-- args: []interface {}{"acme", "course.enrolled", "acme", "course.completed", 101}
WITH `a` AS (SELECT `user_id` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = ?)), `b` AS (SELECT `user_id` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = ?)) SELECT count() FROM (SELECT DISTINCT `user_id` FROM `a`) WHERE (`user_id` IN (SELECT `user_id` FROM `b`)) LIMIT ?;

-- legit.sql: scalar with
-- args: []interface {}{"quiz.submitted", "acme", 101}
WITH ? AS `t` SELECT count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = `t`) LIMIT ?;

-- legit.sql: in subquery
-- args: []interface {}{"acme", "acme", "certificate.issued", 101}
SELECT count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`user_id` IN (SELECT `user_id` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = ?))) LIMIT ?;

-- legit.sql: self join funnel
-- args: []interface {}{"acme", "acme", "course.enrolled", "course.completed", 101}
SELECT uniqExact(`s`.`user_id`) FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `s` INNER JOIN (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `c` ON (`s`.`user_id` = `c`.`user_id`) WHERE ((`s`.`type` = ?) AND (`c`.`type` = ?) AND (`c`.`occurred_at` > `s`.`occurred_at`)) LIMIT ?;

-- legit.sql: join using
-- args: []interface {}{"acme", "user.login", "acme", "quiz.submitted", 101}
SELECT count() FROM (SELECT `user_id`, count() AS `logins` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = ?) GROUP BY `user_id`) AS `l` INNER JOIN (SELECT `user_id`, count() AS `quizzes` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = ?) GROUP BY `user_id`) AS `q` USING (`user_id`) LIMIT ?;

-- legit.sql: left outer join table
-- args: []interface {}{"", "acme", "acme", "quiz.submitted", 101}
SELECT `e`.`type`, count(), countIf((`f`.`event_id` != ?)) AS `countIf((\`f\`.\`event_id\` != ''))` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `e` LEFT JOIN (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `f` ON ((`e`.`event_id` = `f`.`event_id`) AND (`f`.`type` = ?)) GROUP BY `e`.`type` ORDER BY `e`.`type` LIMIT ?;

-- legit.sql: full join
-- args: []interface {}{"acme", "video.watched", "acme", "quiz.submitted", 101}
SELECT count() FROM (SELECT DISTINCT `user_id` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = ?)) AS `a` FULL JOIN (SELECT DISTINCT `user_id` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = ?)) AS `b` ON (`a`.`user_id` = `b`.`user_id`) LIMIT ?;

-- legit.sql: comma join
-- args: []interface {}{"acme", "acme", 0, 101}
SELECT count() FROM (SELECT DISTINCT `type` AS `t` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events`) AS `a`, (SELECT count() AS `n` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events`) AS `b` WHERE (`b`.`n` > ?) LIMIT ?;

-- legit.sql: union all
-- args: []interface {}{"logins", "acme", "user.login", "quizzes", "acme", "quiz.submitted", 101}
SELECT * FROM ((SELECT ? AS `k`, count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = ?)) UNION ALL (SELECT ?, count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = ?))) LIMIT ?;

-- legit.sql: case searched
-- args: []interface {}{80, "high", 50, "mid", "low", "acme", "quiz.submitted", 101}
SELECT CASE WHEN (`properties`.`score`.:Int64 >= ?) THEN ? WHEN (`properties`.`score`.:Int64 >= ?) THEN ? ELSE ? END AS `band`, count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = ?) GROUP BY `band` ORDER BY `band` LIMIT ?;

-- legit.sql: ternary
-- args: []interface {}{"lesson.%", "lesson", "other", "acme", 101}
SELECT if((`type` LIKE ?), ?, ?) AS `kind`, count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` GROUP BY `kind` ORDER BY `kind` LIMIT ?;

-- legit.sql: nullable cast
-- args: []interface {}{"acme", 50, 101}
SELECT count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (CAST(`properties`.`score`.:Int64 AS Nullable(Int64)) > ?) LIMIT ?;

-- legit.sql: lambda over groupArray
-- args: []interface {}{60, "acme", "video.watched", 101}
SELECT `user_id`, arraySum(arrayMap(`x` -> (`x` / ?), groupArray(`properties`.`seconds`.:Int64))) AS `minutes` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = ?) GROUP BY `user_id` ORDER BY `user_id` LIMIT ?;

-- legit.sql: tuple access
-- args: []interface {}{1, "x", 2, 3, 4, 1, 101}
SELECT tupleElement(tuple(?, ?), ?) AS `tupleElement(tuple(1, 'x'), 2)`, tupleElement(tuple(?, ?), ?) AS `tupleElement(tuple(3, 4), 1)` LIMIT ?;

-- legit.sql: window row_number
-- args: []interface {}{"acme", "quiz.submitted", 101}
SELECT `user_id`, `event_id`, row_number() OVER (PARTITION BY `user_id` ORDER BY `occurred_at`, `event_id`) AS `rn` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`type` = ?) ORDER BY `user_id`, `rn` LIMIT ?;

-- legit.sql: windowFunnel
-- args: []interface {}{864000, "course.enrolled", "lesson.started", "lesson.completed", "acme", 101}
SELECT `level`, count() FROM (SELECT `user_id`, windowFunnel(?)(toDateTime(`occurred_at`), (`type` = ?), (`type` = ?), (`type` = ?)) AS `level` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` GROUP BY `user_id`) GROUP BY `level` ORDER BY `level` LIMIT ?;

-- legit.sql: quoted identifiers
-- args: []interface {}{"acme", "acme-e00011", 101}
SELECT `type`, `user_id` FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE (`event_id` = ?) LIMIT ?;

-- legit.sql: negative and float literals
-- args: []interface {}{-1.5, 2, 1000, 16, 3, 101}
SELECT (? * ?) AS `(-1.5 * 2)`, ? AS `1000.0`, ? AS `16`, -(?) AS `-(3)` LIMIT ?;

-- escapes.sql: comma join different tenants
-- args: []interface {}{"acme", "acme", 101}
SELECT count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `a`, (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `b` WHERE (`a`.`tenant_id` != `b`.`tenant_id`) LIMIT ?;

-- escapes.sql: tuple alias shadows table alias
-- args: []interface {}{"zzz", "acme", "zzz", 101}
SELECT CAST(tuple(?) AS Tuple(`tenant_id` String)) AS `e`, count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `e` WHERE (`e`.`tenant_id` = ?) LIMIT ?;

-- escapes.sql: parameter syntax in string
-- args: []interface {}{"acme", "{p0:String}", "{p1:String}", 101}
SELECT count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE ((`type` = ?) OR (`user_id` != ?)) LIMIT ?;

-- escapes.sql: user final is harmless
-- args: []interface {}{"acme", 101}
SELECT count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` LIMIT ?;

-- escapes.sql: long or chain
-- args: []interface {}{"acme", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9", "t10", "t11", "t12", "t13", "t14", "t15", "t16", "t17", "t18", "t19", "t20", "t21", "t22", "t23", "t24", "t25", "t26", "t27", "t28", "t29", "t30", "t31", "t32", "t33", "t34", "t35", "t36", "t37", "t38", "t39", "t40", "t41", "t42", "t43", "t44", "t45", "t46", "t47", "t48", "t49", "t50", "t51", "t52", "t53", "t54", "t55", "t56", "t57", "t58", "t59", "t60", "t61", "t62", "t63", "t64", "t65", "t66", "t67", "t68", "t69", "t70", "t71", "t72", "t73", "t74", "t75", "t76", "t77", "t78", "t79", "t80", "t81", "t82", "t83", "t84", "t85", "t86", "t87", "t88", "t89", "t90", "t91", "t92", "t93", "t94", "t95", "t96", "t97", "t98", "t99", "t100", "t101", "t102", "t103", "t104", "t105", "t106", "t107", "t108", "t109", "t110", "t111", "t112", "t113", "t114", "t115", "t116", "t117", "t118", "t119", "t120", "t121", "t122", "t123", "t124", "t125", "t126", "t127", "t128", "t129", "t130", "t131", "t132", "t133", "t134", "t135", "t136", "t137", "t138", "t139", "t140", "t141", "t142", "t143", "t144", "t145", "t146", "t147", "t148", "t149", "t150", "t151", "t152", "t153", "t154", "t155", "t156", "t157", "t158", "t159", "t160", "t161", "t162", "t163", "t164", "t165", "t166", "t167", "t168", "t169", "t170", "t171", "t172", "t173", "t174", "t175", "t176", "t177", "t178", "t179", "t180", "t181", "t182", "t183", "t184", "t185", "t186", "t187", "t188", "t189", "t190", "t191", "t192", "t193", "t194", "t195", "t196", "t197", "t198", "t199", "t200", "t201", "t202", "t203", "t204", "t205", "t206", "t207", "t208", "t209", "t210", "t211", "t212", "t213", "t214", "t215", "t216", "t217", "t218", "t219", "t220", "t221", "t222", "t223", "t224", "t225", "t226", "t227", "t228", "t229", "t230", "t231", "t232", "t233", "t234", "t235", "t236", "t237", "t238", "t239", "t240", "t241", "t242", "t243", "t244", "t245", "t246", "t247", "t248", "t249", "t250", "t251", "t252", "t253", "t254", "t255", "t256", "t257", "t258", "t259", "t260", "t261", "t262", "t263", "t264", "t265", "t266", "t267", "t268", "t269", "t270", "t271", "t272", "t273", "t274", "t275", "t276", "t277", "t278", "t279", "t280", "t281", "t282", "t283", "t284", "t285", "t286", "t287", "t288", "t289", "t290", "t291", "t292", "t293", "t294", "t295", "t296", "t297", "t298", "t299", "t300", "t301", "t302", "t303", "t304", "t305", "t306", "t307", "t308", "t309", "t310", "t311", "t312", "t313", "t314", "t315", "t316", "t317", "t318", "t319", "t320", "t321", "t322", "t323", "t324", "t325", "t326", "t327", "t328", "t329", "t330", "t331", "t332", "t333", "t334", "t335", "t336", "t337", "t338", "t339", "t340", "t341", "t342", "t343", "t344", "t345", "t346", "t347", "t348", "t349", "t350", "t351", "t352", "t353", "t354", "t355", "t356", "t357", "t358", "t359", "t360", "t361", "t362", "t363", "t364", "t365", "t366", "t367", "t368", "t369", "t370", "t371", "t372", "t373", "t374", "t375", "t376", "t377", "t378", "t379", "t380", "t381", "t382", "t383", "t384", "t385", "t386", "t387", "t388", "t389", "t390", "t391", "t392", "t393", "t394", "t395", "t396", "t397", "t398", "t399", 101}
SELECT count() FROM (SELECT * FROM `events` FINAL WHERE `tenant_id` = ?) AS `events` WHERE ((`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?) OR (`type` = ?)) LIMIT ?;

