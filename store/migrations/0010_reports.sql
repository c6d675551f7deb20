-- Scheduled reports (package reports): reports, their runs and the
-- deliveries of each run, one current row per key, ReplacingMergeTree on
-- version with is_deleted, read with FINAL. A run's id is a function of
-- (report, scheduled time), so a slot run twice writes the same row; a
-- delivery has its own row so concurrent delivery workers never overwrite
-- each other's state. Report commands also write audit_log.
CREATE TABLE IF NOT EXISTS {{table "reports"}} {{onCluster}}
(
    tenant_id      LowCardinality(String),
    report_id      String,
    version        UInt64,
    is_deleted     UInt8,
    name           String,
    enabled        UInt8,
    definition     String COMMENT 'JSON of reports.Input (webhook secrets included)',
    owner          String,
    created_at     DateTime64(3, 'UTC'),
    updated_at     DateTime64(3, 'UTC'),
    scheduled_from DateTime64(3, 'UTC') COMMENT 'slots before it never run'
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, report_id);

{{distributed "reports" "cityHash64(tenant_id)"}};

CREATE TABLE IF NOT EXISTS {{table "report_runs"}} {{onCluster}}
(
    tenant_id     LowCardinality(String),
    report_id     String,
    run_id        String COMMENT 'hash of (report, trigger, scheduled_for): the unique run key',
    version       UInt64,
    is_deleted    UInt8,
    trigger       LowCardinality(String),
    scheduled_for DateTime64(3, 'UTC'),
    status        LowCardinality(String),
    format        LowCardinality(String),
    object_key    String,
    bytes         UInt64,
    period_from   DateTime64(3, 'UTC'),
    period_to     DateTime64(3, 'UTC'),
    error         String,
    created_at    DateTime64(3, 'UTC'),
    started_at    Nullable(DateTime64(3, 'UTC')),
    finished_at   Nullable(DateTime64(3, 'UTC')),
    updated_at    DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, report_id, run_id);

{{distributed "report_runs" "cityHash64(tenant_id)"}};

CREATE TABLE IF NOT EXISTS {{table "report_deliveries"}} {{onCluster}}
(
    tenant_id       LowCardinality(String),
    report_id       String,
    run_id          String,
    idx             UInt16 COMMENT 'position of the delivery in the report',
    version         UInt64,
    is_deleted      UInt8,
    kind            LowCardinality(String),
    target          String,
    status          LowCardinality(String),
    attempts        UInt32,
    last_error      String,
    last_attempt_at Nullable(DateTime64(3, 'UTC')),
    delivered_at    Nullable(DateTime64(3, 'UTC')),
    updated_at      DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, report_id, run_id, idx);

{{distributed "report_deliveries" "cityHash64(tenant_id)"}};
