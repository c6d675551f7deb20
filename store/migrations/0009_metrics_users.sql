-- Added after 0004 was released (migrations are append-only).
-- Distinct users per (tenant, day, course_id) over every event type, for
-- UNIQUE_USERS metrics that read any event (active learners) and neither
-- group nor filter by type (metrics/rollup.go, usersRollupEligible).
-- metrics_daily keeps users per type, so such a query merges each user's
-- state once per event type they had that day; this table merges it once.
-- uniqExact makes it duplicate-proof; metrics.Rollups.Rebuild recomputes it
-- with metrics_daily (privacy erasure relies on that).
CREATE TABLE IF NOT EXISTS {{table "metrics_daily_users"}} {{onCluster}}
(
    tenant_id LowCardinality(String),
    day       Date,
    course_id String,
    users     AggregateFunction(uniqExact, String)
)
ENGINE = {{engine "AggregatingMergeTree"}}
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, day, course_id);

{{distributed "metrics_daily_users" "cityHash64(tenant_id)"}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table "metrics_daily_users_mv"}} {{onCluster}}
TO {{table "metrics_daily_users"}} AS
SELECT
    tenant_id,
    toDate(occurred_at) AS day,
    ifNull(accurateCastOrNull(properties.`course_id`, 'String'), '') AS course_id,
    uniqExactState(user_id) AS users
FROM {{table "events"}}
GROUP BY tenant_id, day, course_id;
