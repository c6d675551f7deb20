-- Every ad-hoc SQL query a tenant sends (adhoc package), run or refused:
-- who sent what, what ran (sha256 of the printed SQL), how long it took,
-- how many rows it returned and why it failed. Append-only.
CREATE TABLE IF NOT EXISTS {{table "query_audit"}} {{onCluster}}
(
    tenant_id      LowCardinality(String) COMMENT 'tenant of the verified caller',
    at             DateTime64(3, 'UTC')   COMMENT 'when the query was received',
    subject        String                 COMMENT 'token subject of the caller',
    request_id     String                 COMMENT 'request id; joins system.query_log.log_comment',
    sql            String                 COMMENT 'the query as the tenant wrote it',
    printed_sha256 String                 COMMENT 'hex sha256 of the SQL that ran; empty when refused before printing',
    duration_ms    UInt32,
    rows           UInt64                 COMMENT 'rows returned to the caller',
    error_code     LowCardinality(String) COMMENT 'empty on success, else BAD_USER_INPUT, RATE_LIMITED …',
    error          String                 COMMENT 'empty on success'
)
ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(at)
ORDER BY (tenant_id, at);

{{distributed "query_audit" "cityHash64(tenant_id)"}}
