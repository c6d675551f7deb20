CREATE TABLE IF NOT EXISTS `schema_migrations` (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC')) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version;

-- events
CREATE TABLE IF NOT EXISTS `events` 
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
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant_id, type, toDate(occurred_at), user_id, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

