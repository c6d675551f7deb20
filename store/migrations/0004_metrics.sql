-- Metric registry (package metrics). `metrics` holds the current definition
-- per (tenant, metric id): ReplacingMergeTree on version with is_deleted, read
-- with FINAL. `metric_versions` keeps every version ever written (history).
CREATE TABLE IF NOT EXISTS {{table "metrics"}} {{onCluster}}
(
    tenant_id  LowCardinality(String),
    metric_id  String,
    key        String,
    version    UInt64,
    is_deleted UInt8,
    status     LowCardinality(String),
    definition String COMMENT 'JSON of metrics.Definition',
    updated_at DateTime64(3, 'UTC'),
    updated_by String
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, metric_id);

{{distributed "metrics" "cityHash64(tenant_id)"}};

CREATE TABLE IF NOT EXISTS {{table "metric_versions"}} {{onCluster}}
(
    tenant_id  LowCardinality(String),
    metric_id  String,
    version    UInt64,
    action     LowCardinality(String),
    definition String COMMENT 'JSON of metrics.Definition at this version',
    updated_at DateTime64(3, 'UTC'),
    updated_by String
)
ENGINE = {{engine "ReplacingMergeTree" "updated_at"}}
ORDER BY (tenant_id, metric_id, version);

{{distributed "metric_versions" "cityHash64(tenant_id)"}};

-- One row per command on any metadata entity: who did what, before and after.
CREATE TABLE IF NOT EXISTS {{table "audit_log"}} {{onCluster}}
(
    tenant_id   LowCardinality(String),
    at          DateTime64(3, 'UTC'),
    actor       String,
    action      LowCardinality(String),
    entity_type LowCardinality(String),
    entity_id   String,
    request_id  String,
    before      String COMMENT 'JSON, empty on create',
    after       String COMMENT 'JSON'
)
ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(at)
ORDER BY (tenant_id, entity_type, entity_id, at);

{{distributed "audit_log" "cityHash64(tenant_id)"}};

-- Daily pre-aggregates of events for metric queries (metrics/rollup.go).
-- Kept current by metrics_daily_mv as events are inserted. Deduplicated
-- insert blocks (insert_deduplication_token) never reach the view; a single
-- event redelivered in another batch is counted twice in events/score/seconds
-- until metrics.Rollups.Rebuild recomputes that day from events FINAL.
-- users is exact regardless (uniqExact of user_id), as are min and max.
CREATE TABLE IF NOT EXISTS {{table "metrics_daily"}} {{onCluster}}
(
    tenant_id   LowCardinality(String),
    day         Date,
    type        LowCardinality(String),
    course_id   String,
    events      SimpleAggregateFunction(sum, UInt64),
    users       AggregateFunction(uniqExact, String),
    score_sum   SimpleAggregateFunction(sum, Float64),
    score_n     SimpleAggregateFunction(sum, UInt64),
    score_min   SimpleAggregateFunction(min, Nullable(Float64)),
    score_max   SimpleAggregateFunction(max, Nullable(Float64)),
    seconds_sum SimpleAggregateFunction(sum, Float64),
    seconds_n   SimpleAggregateFunction(sum, UInt64),
    seconds_min SimpleAggregateFunction(min, Nullable(Float64)),
    seconds_max SimpleAggregateFunction(max, Nullable(Float64))
)
ENGINE = {{engine "AggregatingMergeTree"}}
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, day, type, course_id);

{{distributed "metrics_daily" "cityHash64(tenant_id)"}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table "metrics_daily_mv"}} {{onCluster}}
TO {{table "metrics_daily"}} AS
SELECT
    tenant_id,
    toDate(occurred_at) AS day,
    type,
    ifNull(accurateCastOrNull(properties.`course_id`, 'String'), '') AS course_id,
    toUInt64(count()) AS events,
    uniqExactState(user_id) AS users,
    ifNull(sum(accurateCastOrNull(properties.`score`, 'Float64')), 0) AS score_sum,
    toUInt64(count(accurateCastOrNull(properties.`score`, 'Float64'))) AS score_n,
    min(accurateCastOrNull(properties.`score`, 'Float64')) AS score_min,
    max(accurateCastOrNull(properties.`score`, 'Float64')) AS score_max,
    ifNull(sum(accurateCastOrNull(properties.`seconds`, 'Float64')), 0) AS seconds_sum,
    toUInt64(count(accurateCastOrNull(properties.`seconds`, 'Float64'))) AS seconds_n,
    min(accurateCastOrNull(properties.`seconds`, 'Float64')) AS seconds_min,
    max(accurateCastOrNull(properties.`seconds`, 'Float64')) AS seconds_max
FROM {{table "events"}}
GROUP BY tenant_id, day, type, course_id;
