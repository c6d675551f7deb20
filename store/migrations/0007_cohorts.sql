-- Cohorts (package cohorts). Definitions: one current row per (tenant,
-- cohort), ReplacingMergeTree on version with is_deleted, read with FINAL;
-- audit_log keeps the history.
CREATE TABLE IF NOT EXISTS {{table "cohorts"}} {{onCluster}}
(
    tenant_id  LowCardinality(String),
    cohort_id  String,
    version    UInt64,
    is_deleted UInt8,
    name       String,
    active     UInt8,
    definition String COMMENT 'JSON of cohorts.Cohort',
    updated_at DateTime64(3, 'UTC'),
    updated_by String
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, cohort_id);

{{distributed "cohorts" "cityHash64(tenant_id)"}};

-- Materialised membership: one set of users per evaluation (version); the
-- previous versions stay so entered/exited can be computed and replayed.
CREATE TABLE IF NOT EXISTS {{table "cohort_users"}} {{onCluster}}
(
    tenant_id LowCardinality(String),
    cohort_id String,
    version   UInt64 COMMENT 'the evaluation: unix minutes of its scheduled time',
    user_id   String
)
ENGINE = {{engine "ReplacingMergeTree"}}
PARTITION BY intDiv(version, 43200)
ORDER BY (tenant_id, cohort_id, version, user_id);

{{distributed "cohort_users" "cityHash64(tenant_id, cohort_id)"}};

-- One row per evaluation: size history, diffs and failures.
CREATE TABLE IF NOT EXISTS {{table "cohort_evaluations"}} {{onCluster}}
(
    tenant_id     LowCardinality(String),
    cohort_id     String,
    version       UInt64,
    scheduled_for DateTime64(3, 'UTC'),
    evaluated_at  DateTime64(3, 'UTC'),
    size          UInt64,
    entered       UInt64,
    exited        UInt64,
    error         String COMMENT 'empty on success; the last good membership stays in force otherwise'
)
ENGINE = {{engine "ReplacingMergeTree" "evaluated_at"}}
ORDER BY (tenant_id, cohort_id, version);

{{distributed "cohort_evaluations" "cityHash64(tenant_id)"}};
