-- Dashboards (package dashboards): one current row per (tenant, dashboard),
-- ReplacingMergeTree on version with is_deleted, read with FINAL. The
-- widgets live inside the row's JSON definition: a dashboard is read,
-- versioned and written as one unit (every widget command bumps the
-- dashboard version), so one row per version needs no cross-row
-- consistency from an engine that merges rows eventually. Commands also
-- write audit_log (before/after JSON), which is the version history.
CREATE TABLE IF NOT EXISTS {{table "dashboards"}} {{onCluster}}
(
    tenant_id    LowCardinality(String),
    dashboard_id String,
    slug         String,
    version      UInt64,
    is_deleted   UInt8,
    title        String,
    definition   String COMMENT 'JSON of dashboards.Dashboard',
    updated_at   DateTime64(3, 'UTC'),
    updated_by   String
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, dashboard_id);

{{distributed "dashboards" "cityHash64(tenant_id)"}};
