CREATE TABLE IF NOT EXISTS `schema_migrations` ON CLUSTER `analytics` (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC')) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{database}/schema_migrations', '{replica}', applied_at) ORDER BY version;

-- events
CREATE TABLE IF NOT EXISTS `events_local` ON CLUSTER `analytics`
(
    tenant_id   LowCardinality(String) COMMENT 'tenant from the verified envelope',
    event_id    String                 COMMENT 'producer id; the dedup key',
    type        LowCardinality(String) COMMENT 'e.g. lesson.completed',
    user_id     String,
    session_id  String,
    occurred_at DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    properties  JSON
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', received_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant_id, type, toDate(occurred_at), user_id, event_id);

-- events
CREATE TABLE IF NOT EXISTS `events` ON CLUSTER `analytics` AS `events_local` ENGINE = Distributed(`analytics`, currentDatabase(), `events_local`, cityHash64(tenant_id, user_id));

