-- Envelopes the firehose refused (invalid JSON, missing fields, wrong
-- tenant, …), kept 30 days so an admin can see what a producer sends wrong.
-- The original bytes are in payload; reason_code is the machine code of
-- docs/events.md, reason the human sentence. Tenant-scoped like every read.
CREATE TABLE IF NOT EXISTS {{table "dead_letters"}} {{onCluster}}
(
    tenant_id   LowCardinality(String) COMMENT 'tenant of the subject, or _unknown',
    received_at DateTime64(3, 'UTC')   COMMENT 'when the firehose stored the envelope',
    subject     String                 COMMENT 'NATS subject the envelope arrived on',
    reason_code LowCardinality(String) COMMENT 'machine reason, e.g. missing_field',
    reason      String                 COMMENT 'what was wrong and what would be right',
    payload     String                 COMMENT 'the original bytes'
)
ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(received_at)
ORDER BY (tenant_id, received_at)
TTL toDateTime(received_at) + INTERVAL 30 DAY
{{dedupWindow}};

{{distributed "dead_letters" "cityHash64(tenant_id)"}}
