-- Report scheduling state (package reports): one row per report with the
-- next instant it is due and the last slot the tick enqueued, so a tick
-- reads only the due reports instead of every report and every run. The
-- tick and the report commands write it; ReplacingMergeTree on version,
-- read with FINAL; a deleted or disabled report has a tombstone.
CREATE TABLE IF NOT EXISTS {{table "report_schedules"}} {{onCluster}}
(
    tenant_id      LowCardinality(String),
    report_id      String,
    version        UInt64,
    is_deleted     UInt8,
    next_run_at    DateTime64(3, 'UTC') COMMENT 'the tick looks at the report once this has passed',
    last_slot      DateTime64(3, 'UTC') COMMENT 'latest scheduled slot enqueued (zero: none yet)',
    report_version UInt64 COMMENT 'version of the report row next_run_at was computed from',
    INDEX next_run_idx next_run_at TYPE minmax GRANULARITY 1
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, report_id);

{{distributed "report_schedules" "cityHash64(tenant_id)"}};

-- Reports stored before this migration: due at once (the tick then
-- computes their latest slot), with the last scheduled slot from their runs.
INSERT INTO report_schedules (tenant_id, report_id, version, is_deleted, next_run_at, last_slot, report_version)
SELECT r.tenant_id, r.report_id, 1, 0, r.scheduled_from, ifNull(l.last_slot, toDateTime64(0, 3, 'UTC')), r.version
FROM (SELECT tenant_id, report_id, version, scheduled_from FROM reports FINAL WHERE enabled = 1) AS r
LEFT JOIN (SELECT tenant_id, report_id, max(scheduled_for) AS last_slot FROM report_runs FINAL
           WHERE trigger = 'SCHEDULED' GROUP BY tenant_id, report_id) AS l
       ON r.tenant_id = l.tenant_id AND r.report_id = l.report_id;

-- When the janitor deleted a run's file after the retention; a run
-- with it set has no download URL any more. The second statement alters
-- the Distributed table on a cluster (a no-op repeat on a single node).
ALTER TABLE {{table "report_runs"}} {{onCluster}} ADD COLUMN IF NOT EXISTS expired_at Nullable(DateTime64(3, 'UTC'));
ALTER TABLE report_runs {{onCluster}} ADD COLUMN IF NOT EXISTS expired_at Nullable(DateTime64(3, 'UTC'))
