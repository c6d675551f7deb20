-- API keys (package apikeys) for server-to-server ingest and embedding.
-- Only the SHA-256 of the secret is stored; one current row per (tenant,
-- key), ReplacingMergeTree on version, read with FINAL; revoking writes a
-- newer version with revoked = 1.
CREATE TABLE IF NOT EXISTS {{table "api_keys"}} {{onCluster}}
(
    tenant_id  LowCardinality(String),
    key_id     String,
    version    UInt64,
    key_hash   String COMMENT 'hex SHA-256 of the whole secret (ak_…)',
    name       String,
    role       LowCardinality(String),
    revoked    UInt8,
    created_at DateTime64(3, 'UTC'),
    created_by String,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "version"}}
ORDER BY (tenant_id, key_id);

{{distributed "api_keys" "cityHash64(tenant_id)"}};
