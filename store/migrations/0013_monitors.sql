-- Monitors (package monitors). Definitions: one current row per (tenant,
-- monitor), ReplacingMergeTree on version with is_deleted, read with FINAL;
-- audit_log keeps the history. The key-metric defaults ("key:<metric>") are
-- virtual until an admin tunes one, which stores it here.
CREATE TABLE IF NOT EXISTS {{table "monitors"}} {{onCluster}}
(
    tenant_id  LowCardinality(String),
    monitor_id String,
    version    UInt64,
    is_deleted UInt8,
    name       String,
    active     UInt8,
    definition String COMMENT 'JSON of monitors.Monitor',
    updated_at DateTime64(3, 'UTC'),
    updated_by String
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, monitor_id);

{{distributed "monitors" "cityHash64(tenant_id)"}};

-- One row per (monitor, series, bucket): the detector's verdict. Replaying
-- the detector over the same history gives the same row, and the newest
-- evaluation (version) wins, so an evaluation run twice leaves the same rows.
CREATE TABLE IF NOT EXISTS {{table "monitor_scores"}} {{onCluster}}
(
    tenant_id    LowCardinality(String),
    monitor_id   String,
    series_key   String COMMENT 'the series labels as JSON (keys sorted); {} for the whole metric',
    bucket       DateTime64(3, 'UTC'),
    value        Float64,
    expected     Float64 COMMENT 'NaN while the model warms up',
    lower        Float64,
    upper        Float64,
    score        Float64,
    confidence   Float64,
    anomalous    UInt8,
    detector     LowCardinality(String),
    query        String COMMENT 'JSON of the metric request that produced value',
    evaluated_at DateTime64(3, 'UTC') COMMENT 'the scheduled time of the evaluation',
    version      UInt64 COMMENT 'monitor version: a retuned monitor rewrites its scores'
)
ENGINE = {{engine "ReplacingMergeTree" "evaluated_at"}}
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant_id, monitor_id, series_key, bucket);

{{distributed "monitor_scores" "cityHash64(tenant_id, monitor_id)"}};

-- One row per evaluation of a monitor: how many series were scored, and the
-- errors of the ones that failed (a failing series never stops the others).
CREATE TABLE IF NOT EXISTS {{table "monitor_runs"}} {{onCluster}}
(
    tenant_id     LowCardinality(String),
    monitor_id    String,
    scheduled_for DateTime64(3, 'UTC'),
    kind          LowCardinality(String) COMMENT 'tick or backfill',
    version       UInt64 COMMENT 'the monitor version evaluated',
    series        UInt32,
    scored        UInt32,
    errors        String COMMENT 'JSON list of {series, error}; empty list when none',
    evaluated_at  DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "evaluated_at"}}
ORDER BY (tenant_id, monitor_id, version, scheduled_for, kind);

{{distributed "monitor_runs" "cityHash64(tenant_id)"}};
