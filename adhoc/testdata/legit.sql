-- Legitimate analytics queries. Each runs through the service as tenant
-- acme and, as written, directly on a database whose `events` is a view
-- with an explicit tenant filter (WHERE tenant_id = 'acme', FINAL); the
-- results must be equal. Add a case: "-- case: name" then the SQL; a
-- "-- hand: SQL" line replaces the text for the direct run where the
-- store cannot take it as written (a ternary `?` reads as a placeholder).
-- case: count all
SELECT count() FROM events
-- case: count per type
SELECT type, count() AS n FROM events GROUP BY type ORDER BY n DESC, type
-- case: distinct users
SELECT uniqExact(user_id) FROM events
-- case: distinct types
SELECT DISTINCT type FROM events ORDER BY type
-- case: daily active users
SELECT toDate(occurred_at) AS day, uniqExact(user_id) AS dau FROM events GROUP BY day ORDER BY day
-- case: weekly active users
SELECT toStartOfWeek(occurred_at) AS week, uniq(user_id) FROM events GROUP BY week ORDER BY week
-- case: monthly events
SELECT toStartOfMonth(occurred_at) AS m, count() FROM events GROUP BY m ORDER BY m
-- case: hourly histogram
SELECT toHour(occurred_at) AS h, count() AS n FROM events GROUP BY h ORDER BY h
-- case: day of week
SELECT toDayOfWeek(occurred_at) AS d, count() FROM events GROUP BY d ORDER BY d
-- case: where type equals
SELECT count() FROM events WHERE type = 'lesson.completed'
-- case: where type in list
SELECT type, count() FROM events WHERE type IN ('quiz.submitted', 'video.watched') GROUP BY type ORDER BY type
-- case: where type not in list
SELECT count() FROM events WHERE type NOT IN ('user.login', 'course.enrolled')
-- case: like prefix
SELECT count() FROM events WHERE type LIKE 'lesson.%'
-- case: ilike
SELECT count() FROM events WHERE type ILIKE 'LESSON.%'
-- case: not like
SELECT count() FROM events WHERE type NOT LIKE '%.submitted'
-- case: between dates
SELECT count() FROM events WHERE occurred_at BETWEEN '2026-03-10 00:00:00' AND '2026-03-20 00:00:00'
-- case: not between
SELECT count() FROM events WHERE toDayOfMonth(occurred_at) NOT BETWEEN 5 AND 25
-- case: date comparison
SELECT count() FROM events WHERE occurred_at >= toDateTime('2026-04-01 00:00:00', 'UTC')
-- case: interval arithmetic
SELECT count() FROM events WHERE occurred_at < toDateTime64('2026-04-15 00:00:00', 3, 'UTC') - INTERVAL 7 DAY
-- case: interval hours
SELECT min(occurred_at + INTERVAL 2 HOUR), max(occurred_at - INTERVAL 30 MINUTE) FROM events
-- case: start of interval
SELECT toStartOfInterval(occurred_at, INTERVAL 6 HOUR) AS slot, count() FROM events GROUP BY slot ORDER BY slot
-- case: quiz average score
SELECT avg(properties.score.:Int64) FROM events WHERE type = 'quiz.submitted'
-- case: quiz score quantile
SELECT quantile(0.9)(properties.score.:Int64) FROM events WHERE type = 'quiz.submitted'
-- case: quiz score quantiles
SELECT quantiles(0.25, 0.5, 0.75)(properties.score.:Int64) FROM events WHERE type = 'quiz.submitted'
-- case: exact median
SELECT medianExact(properties.score.:Int64) FROM events WHERE type = 'quiz.submitted'
-- case: score distribution buckets
SELECT intDiv(properties.score.:Int64, 10) * 10 AS bucket, count() FROM events WHERE type = 'quiz.submitted' GROUP BY bucket ORDER BY bucket
-- case: video seconds sum per user
SELECT user_id, sum(properties.seconds.:Int64) AS s FROM events WHERE type = 'video.watched' GROUP BY user_id ORDER BY s DESC, user_id
-- case: countIf combinator
SELECT countIf(type = 'lesson.started'), countIf(type = 'lesson.completed') FROM events
-- case: completion rate
SELECT round(countIf(type = 'lesson.completed') / countIf(type = 'lesson.started'), 4) FROM events
-- case: uniqExactIf
SELECT uniqExactIf(user_id, type = 'course.completed') FROM events
-- case: sumIf
SELECT sumIf(properties.seconds.:Int64, properties.device.:String = 'web') FROM events
-- case: avgIf
SELECT avgIf(properties.score.:Int64, type = 'quiz.submitted') FROM events
-- case: state merge
SELECT uniqMerge(s) FROM (SELECT uniqState(user_id) AS s FROM events GROUP BY type)
-- case: countMerge by type
SELECT t, countMerge(c) FROM (SELECT type AS t, countState() AS c FROM events GROUP BY type) GROUP BY t ORDER BY t
-- case: topK
SELECT arraySort(topK(3)(type)) FROM events
-- case: groupArray sorted
SELECT arraySort(groupUniqArray(type)) FROM events
-- case: argMax latest type per user
SELECT user_id, argMax(type, (occurred_at, event_id)) FROM events GROUP BY user_id ORDER BY user_id
-- case: argMin first event per user
SELECT user_id, argMin(event_id, (occurred_at, event_id)) FROM events GROUP BY user_id ORDER BY user_id
-- case: min max per type
SELECT type, min(occurred_at), max(occurred_at) FROM events GROUP BY type ORDER BY type
-- case: having
SELECT user_id, count() AS n FROM events GROUP BY user_id HAVING n > 35 ORDER BY user_id
-- case: having aggregate expression
SELECT type FROM events GROUP BY type HAVING uniqExact(user_id) >= 20 ORDER BY type
-- case: group by two keys
SELECT type, properties.device.:String AS device, count() FROM events GROUP BY type, device ORDER BY type, device
-- case: group by position
SELECT type, count() FROM events GROUP BY 1 ORDER BY 1
-- case: order by position desc
SELECT user_id, count() FROM events GROUP BY user_id ORDER BY 2 DESC, 1
-- case: with totals
SELECT type, count() FROM events GROUP BY type WITH TOTALS ORDER BY type
-- case: with rollup
SELECT type, count() FROM events GROUP BY type WITH ROLLUP ORDER BY type
-- case: limit offset
SELECT event_id FROM events ORDER BY event_id LIMIT 10 OFFSET 5
-- case: limit comma form
SELECT event_id FROM events ORDER BY event_id LIMIT 3, 7
-- case: limit by
SELECT user_id, event_id FROM events ORDER BY user_id, occurred_at, event_id LIMIT 2 BY user_id
-- case: limit by then limit
SELECT user_id, type FROM events ORDER BY user_id, type LIMIT 1 BY user_id LIMIT 5
-- case: order with fill
SELECT toDayOfMonth(occurred_at) AS d, count() FROM events WHERE occurred_at < '2026-03-08 00:00:00' GROUP BY d ORDER BY d WITH FILL FROM 1 TO 10
-- case: cte
WITH q AS (SELECT user_id, count() AS n FROM events GROUP BY user_id) SELECT max(n), min(n) FROM q
-- case: two ctes
WITH a AS (SELECT user_id FROM events WHERE type = 'course.enrolled'), b AS (SELECT user_id FROM events WHERE type = 'course.completed') SELECT count() FROM (SELECT DISTINCT user_id FROM a) WHERE user_id IN (SELECT user_id FROM b)
-- case: scalar with
WITH 'quiz.submitted' AS t SELECT count() FROM events WHERE type = t
-- case: scalar subquery
SELECT count() FROM events WHERE occurred_at > (SELECT min(occurred_at) FROM events WHERE type = 'certificate.issued')
-- case: in subquery
SELECT count() FROM events WHERE user_id IN (SELECT user_id FROM events WHERE type = 'certificate.issued')
-- case: not in subquery
SELECT uniqExact(user_id) FROM events WHERE user_id NOT IN (SELECT user_id FROM events WHERE type = 'certificate.issued')
-- case: from subquery
SELECT avg(n) FROM (SELECT user_id, count() AS n FROM events GROUP BY user_id)
-- case: nested subqueries
SELECT max(m) FROM (SELECT type, max(n) AS m FROM (SELECT type, user_id, count() AS n FROM events GROUP BY type, user_id) GROUP BY type)
-- case: inner join on
SELECT count() FROM events AS a INNER JOIN events AS b ON a.user_id = b.user_id AND a.event_id = b.event_id
-- case: self join funnel
SELECT uniqExact(s.user_id) FROM events AS s JOIN events AS c ON s.user_id = c.user_id WHERE s.type = 'course.enrolled' AND c.type = 'course.completed' AND c.occurred_at > s.occurred_at
-- case: join using
SELECT count() FROM (SELECT user_id, count() AS logins FROM events WHERE type = 'user.login' GROUP BY user_id) AS l JOIN (SELECT user_id, count() AS quizzes FROM events WHERE type = 'quiz.submitted' GROUP BY user_id) AS q USING (user_id)
-- case: left join
SELECT l.user_id, q.quizzes FROM (SELECT DISTINCT user_id FROM events) AS l LEFT JOIN (SELECT user_id, count() AS quizzes FROM events WHERE type = 'quiz.submitted' GROUP BY user_id) AS q ON l.user_id = q.user_id ORDER BY l.user_id
-- case: left outer join table
SELECT e.type, count(), countIf(f.event_id != '') FROM events AS e LEFT OUTER JOIN events AS f ON e.event_id = f.event_id AND f.type = 'quiz.submitted' GROUP BY e.type ORDER BY e.type
-- case: right join
SELECT count() FROM (SELECT user_id FROM events WHERE type = 'certificate.issued') AS a RIGHT JOIN (SELECT DISTINCT user_id FROM events) AS b ON a.user_id = b.user_id
-- case: full join
SELECT count() FROM (SELECT DISTINCT user_id FROM events WHERE type = 'video.watched') AS a FULL OUTER JOIN (SELECT DISTINCT user_id FROM events WHERE type = 'quiz.submitted') AS b ON a.user_id = b.user_id
-- case: any left join
SELECT count() FROM events AS a ANY LEFT JOIN events AS b ON a.user_id = b.user_id
-- case: left semi join
SELECT count() FROM events AS a LEFT SEMI JOIN (SELECT user_id FROM events WHERE type = 'certificate.issued') AS b ON a.user_id = b.user_id
-- case: left anti join
SELECT count() FROM events AS a LEFT ANTI JOIN (SELECT user_id FROM events WHERE type = 'certificate.issued') AS b ON a.user_id = b.user_id
-- case: cross join small
SELECT count() FROM (SELECT DISTINCT type FROM events) AS a CROSS JOIN (SELECT DISTINCT properties.device.:String AS d FROM events) AS b
-- case: comma join
SELECT count() FROM (SELECT DISTINCT type AS t FROM events) AS a, (SELECT count() AS n FROM events) AS b WHERE b.n > 0
-- case: union all
SELECT 'logins' AS k, count() FROM events WHERE type = 'user.login' UNION ALL SELECT 'quizzes', count() FROM events WHERE type = 'quiz.submitted'
-- case: union distinct
SELECT user_id FROM events WHERE type = 'quiz.submitted' UNION DISTINCT SELECT user_id FROM events WHERE type = 'video.watched'
-- case: case searched
SELECT CASE WHEN properties.score.:Int64 >= 80 THEN 'high' WHEN properties.score.:Int64 >= 50 THEN 'mid' ELSE 'low' END AS band, count() FROM events WHERE type = 'quiz.submitted' GROUP BY band ORDER BY band
-- case: case simple
SELECT CASE type WHEN 'user.login' THEN 1 WHEN 'course.enrolled' THEN 2 ELSE 0 END AS k, count() FROM events GROUP BY k ORDER BY k
-- case: ternary
SELECT type LIKE 'lesson.%' ? 'lesson' : 'other' AS kind, count() FROM events GROUP BY kind ORDER BY kind
-- hand: SELECT if(type LIKE 'lesson.%', 'lesson', 'other') AS kind, count() FROM events GROUP BY kind ORDER BY kind
-- case: if function
SELECT sum(if(type = 'user.login', 1, 0)) FROM events
-- case: multiIf
SELECT multiIf(toHour(occurred_at) < 6, 'night', toHour(occurred_at) < 12, 'morning', toHour(occurred_at) < 18, 'afternoon', 'evening') AS part, count() FROM events GROUP BY part ORDER BY part
-- case: is null on nullable subcolumn
SELECT count() FROM events WHERE properties.score.:Int64 IS NULL
-- case: is not null
SELECT count() FROM events WHERE properties.seconds.:Int64 IS NOT NULL
-- case: coalesce
SELECT sum(coalesce(properties.score.:Int64, 0)) FROM events
-- case: ifNull
SELECT sum(ifNull(properties.seconds.:Int64, 0)) FROM events
-- case: json string subcolumn
SELECT properties.course.:String AS course, count() FROM events GROUP BY course ORDER BY course
-- case: json dynamic to string
SELECT toString(properties.device) AS d, count() FROM events GROUP BY d ORDER BY d
-- case: cast syntax
SELECT CAST(properties.score.:Int64 AS Float64) / 100 AS s FROM events WHERE type = 'quiz.submitted' ORDER BY event_id LIMIT 20
-- case: double colon cast
SELECT sum(toDayOfMonth(occurred_at)::UInt64) FROM events
-- case: cast to string
SELECT CAST(toYear(occurred_at) AS String) AS y, count() FROM events GROUP BY y ORDER BY y
-- case: nullable cast
SELECT count() FROM events WHERE CAST(properties.score.:Int64 AS Nullable(Int64)) > 50
-- case: array literal has
SELECT count() FROM events WHERE has(['web', 'ios'], properties.device.:String)
-- case: array functions
SELECT arraySort(arrayDistinct(groupArray(properties.device.:String))) FROM events
-- case: lambda map
SELECT arrayMap(x -> x * 2, [1, 2, 3]), arrayFilter(x -> x > 1, [1, 2, 3])
-- case: lambda over groupArray
SELECT user_id, arraySum(arrayMap(x -> x / 60, groupArray(properties.seconds.:Int64))) AS minutes FROM events WHERE type = 'video.watched' GROUP BY user_id ORDER BY user_id
-- case: two-arg lambda
SELECT arrayMap((a, b) -> a + b, [1, 2], [10, 20])
-- case: array index
SELECT [10, 20, 30][2], arrayElement(['a', 'b'], 1)
-- case: tuple access
SELECT (1, 'x').2, tupleElement((3, 4), 1)
-- case: tuple in
SELECT count() FROM events WHERE (type, properties.device.:String) IN (('quiz.submitted', 'web'), ('video.watched', 'ios'))
-- case: arrayJoin
SELECT arrayJoin(['a', 'b', 'c']) AS x ORDER BY x
-- case: string functions
SELECT upper(substring(type, 1, 4)) AS p, count() FROM events GROUP BY p ORDER BY p
-- case: concat and length
SELECT concat(user_id, ':', type) AS k FROM events ORDER BY event_id LIMIT 5
-- case: concat operator
SELECT user_id || '/' || session_id FROM events ORDER BY event_id LIMIT 5
-- case: splitByChar
SELECT splitByChar('.', type)[1] AS domain, count() FROM events GROUP BY domain ORDER BY domain
-- case: replace and position
SELECT replaceAll(type, '.', '_') AS t, position(type, '.') FROM events GROUP BY type ORDER BY t
-- case: startsWith
SELECT count() FROM events WHERE startsWith(type, 'course.')
-- case: match regexp
SELECT count() FROM events WHERE match(user_id, 'u0[0-9]$')
-- case: extract
SELECT extract(user_id, '[0-9]+$') AS num, count() FROM events GROUP BY num ORDER BY num
-- case: math functions
SELECT round(sqrt(sum(properties.seconds.:Int64)), 2), abs(-5), greatest(1, 7, 3), least(4, 2) FROM events
-- case: modulo and division
SELECT toMinute(occurred_at) % 15 AS m, count() FROM events GROUP BY m ORDER BY m
-- case: floor log
SELECT floor(log10(properties.seconds.:Int64)) AS mag, count() FROM events WHERE type = 'video.watched' GROUP BY mag ORDER BY mag
-- case: stddev
SELECT round(stddevPop(properties.score.:Int64), 6), round(varSamp(properties.score.:Int64), 6) FROM events
-- case: date diff
SELECT user_id, dateDiff('day', min(occurred_at), max(occurred_at)) AS span FROM events GROUP BY user_id ORDER BY user_id
-- case: formatDateTime
SELECT formatDateTime(occurred_at, '%Y-%m') AS ym, count() FROM events GROUP BY ym ORDER BY ym
-- case: toYYYYMM
SELECT toYYYYMM(occurred_at) AS ym, uniqExact(user_id) FROM events GROUP BY ym ORDER BY ym
-- case: date_trunc
SELECT date_trunc('week', occurred_at) AS w, count() FROM events GROUP BY w ORDER BY w
-- case: addDays
SELECT count() FROM events WHERE occurred_at < addDays(toDateTime('2026-03-01 00:00:00', 'UTC'), 10)
-- case: to unix timestamp
SELECT min(toUnixTimestamp(occurred_at)), max(toUnixTimestamp(occurred_at)) FROM events
-- case: window row_number
SELECT user_id, event_id, row_number() OVER (PARTITION BY user_id ORDER BY occurred_at, event_id) AS rn FROM events WHERE type = 'quiz.submitted' ORDER BY user_id, rn
-- case: window running count
SELECT d, n, sum(n) OVER (ORDER BY d) AS running FROM (SELECT toDate(occurred_at) AS d, count() AS n FROM events GROUP BY d) ORDER BY d
-- case: window rank
SELECT user_id, n, rank() OVER (ORDER BY n DESC) AS r FROM (SELECT user_id, count() AS n FROM events GROUP BY user_id) ORDER BY r, user_id
-- case: window lag
SELECT d, n, lagInFrame(n) OVER (ORDER BY d) AS prev FROM (SELECT toDate(occurred_at) AS d, count() AS n FROM events GROUP BY d) ORDER BY d
-- case: retention
SELECT sum(r[1]), sum(r[2]) FROM (SELECT user_id, retention(type = 'course.enrolled', type = 'lesson.completed') AS r FROM events GROUP BY user_id)
-- case: windowFunnel
SELECT level, count() FROM (SELECT user_id, windowFunnel(864000)(toDateTime(occurred_at), type = 'course.enrolled', type = 'lesson.started', type = 'lesson.completed') AS level FROM events GROUP BY user_id) GROUP BY level ORDER BY level
-- case: sessions per user
SELECT user_id, uniqExact(session_id) AS sessions FROM events GROUP BY user_id ORDER BY sessions DESC, user_id
-- case: events per session
SELECT avg(n) FROM (SELECT session_id, count() AS n FROM events GROUP BY session_id)
-- case: tenant column visible
SELECT tenant_id, count() FROM events GROUP BY tenant_id
-- case: qualified star
SELECT e.* FROM events AS e WHERE e.event_id = 'acme-e00007'
-- case: quoted identifiers
SELECT `type`, "user_id" FROM `events` WHERE `event_id` = 'acme-e00011'
-- case: keyword-case mix
select type, COUNT(*) from events where type = 'user.login' or type = 'course.enrolled' group by type order by type
-- case: trailing semicolon and comments
SELECT count() -- how many
FROM events /* all of them */ ;
-- case: escaped string literal
SELECT count() FROM events WHERE type != 'it''s \'quoted\''
-- case: negative and float literals
SELECT -1.5 * 2, 1e3, 0x10, -(3)
-- case: boolean and null literals
SELECT count() FROM events WHERE true AND NOT false AND NULL IS NULL
-- case: json keys
SELECT arraySort(JSONAllPaths(properties)) AS p, count() FROM events GROUP BY p ORDER BY p
-- case: distinct on expression
SELECT DISTINCT toYear(occurred_at), toMonth(occurred_at) FROM events ORDER BY 1, 2
-- case: count distinct syntax
SELECT count(DISTINCT user_id), count(DISTINCT type) FROM events
-- case: avg weighted
SELECT round(avgWeighted(properties.score.:Int64, 2), 6) FROM events WHERE type = 'quiz.submitted'
-- case: sequenceCount
SELECT sum(c) FROM (SELECT user_id, sequenceCount('(?1)(?2)')(toDateTime(occurred_at), type = 'lesson.started', type = 'lesson.completed') AS c FROM events GROUP BY user_id)
