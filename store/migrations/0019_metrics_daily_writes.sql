-- Which days of metrics_daily the rollup path may trust (metrics/rollup.go).
-- The views of 0004 add an event redelivered in another insert block to
-- metrics_daily's counts and sums a second time; only a rebuild from events
-- FINAL (metrics.Rollups.Rebuild) makes a day exact again. So:
--   metrics_daily_writes   the last time (engine clock) any insert wrote
--                          events of a (tenant, day), kept by its view;
--   metrics_daily_rebuilds the time a rebuild of a (tenant, day) started,
--                          less a safety margin ('' tenant: every tenant).
-- A day written since its last rebuild is "dirty": metric queries read it
-- from events FINAL instead of metrics_daily, and the nightly
-- metrics.RebuildRollupsJob rebuilds every dirty closed day. A day never
-- written after this migration has no row here and is read from the
-- rollup, as before it. The users rollups (uniqExact) do not need this:
-- a repeated user adds nothing to them.
CREATE TABLE IF NOT EXISTS {{table "metrics_daily_writes"}} {{onCluster}}
(
    tenant_id  LowCardinality(String),
    day        Date,
    written_at SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = {{engine "AggregatingMergeTree"}}
ORDER BY (tenant_id, day);

{{distributed "metrics_daily_writes" "cityHash64(tenant_id)"}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table "metrics_daily_writes_mv"}} {{onCluster}}
TO {{table "metrics_daily_writes"}} AS
SELECT
    tenant_id,
    toDate(occurred_at) AS day,
    max(now64(3, 'UTC')) AS written_at
FROM {{table "events"}}
GROUP BY tenant_id, day;

CREATE TABLE IF NOT EXISTS {{table "metrics_daily_rebuilds"}} {{onCluster}}
(
    tenant_id  LowCardinality(String) COMMENT 'empty: a rebuild of every tenant',
    day        Date,
    rebuilt_at SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = {{engine "AggregatingMergeTree"}}
ORDER BY (tenant_id, day);

{{distributed "metrics_daily_rebuilds" "cityHash64(tenant_id)"}};
