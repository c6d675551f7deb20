-- Export jobs (package exports): one current row per (tenant, job),
-- ReplacingMergeTree on version with is_deleted, read with FINAL. Every
-- state change (queued, running, progress, succeeded, failed, cancelled,
-- expired) writes a new version; commands also write audit_log.
CREATE TABLE IF NOT EXISTS {{table "export_jobs"}} {{onCluster}}
(
    tenant_id      LowCardinality(String),
    job_id         String,
    version        UInt64,
    is_deleted     UInt8,
    status         LowCardinality(String),
    format         LowCardinality(String),
    source         LowCardinality(String),
    spec           String COMMENT 'JSON of exports.Spec',
    requested_by   String,
    object_key     String,
    rows           UInt64,
    bytes          UInt64,
    error          String,
    created_at     DateTime64(3, 'UTC'),
    started_at     Nullable(DateTime64(3, 'UTC')),
    finished_at    Nullable(DateTime64(3, 'UTC')),
    url_expires_at Nullable(DateTime64(3, 'UTC')),
    expires_at     Nullable(DateTime64(3, 'UTC')) COMMENT 'when the janitor deletes the object',
    updated_at     DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, job_id);

{{distributed "export_jobs" "cityHash64(tenant_id)"}};
