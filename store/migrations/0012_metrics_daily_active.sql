-- Distinct users per (tenant, day) over every event, for UNIQUE_USERS
-- metrics that read any event with no dimension and no filter (daily
-- active learners, the most common chart): metrics_daily_users keeps users
-- per course, so such a query merged each day's course states into the
-- day; here a day is one row once merged (metrics/rollup.go). uniqExact
-- makes it duplicate-proof. Its view sees only inserts made after this
-- migration: the nightly metrics.RebuildRollupsJob rebuilds every older
-- day on which it counts other users than metrics_daily (and
-- Rollups.Rebuild, which privacy erasure relies on, recomputes it with the
-- other rollups); until then a database upgraded past this migration reads
-- its earlier days short from this table. Retention drops its closed
-- months with the others.
CREATE TABLE IF NOT EXISTS {{table "metrics_daily_active"}} {{onCluster}}
(
    tenant_id LowCardinality(String),
    day       Date,
    users     AggregateFunction(uniqExact, String)
)
ENGINE = {{engine "AggregatingMergeTree"}}
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, day);

{{distributed "metrics_daily_active" "cityHash64(tenant_id)"}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table "metrics_daily_active_mv"}} {{onCluster}}
TO {{table "metrics_daily_active"}} AS
SELECT
    tenant_id,
    toDate(occurred_at) AS day,
    uniqExactState(user_id) AS users
FROM {{table "events"}}
GROUP BY tenant_id, day;
