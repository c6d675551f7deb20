-- Hot tier of learning events: one shared table, tenant first in the key.
-- ReplacingMergeTree collapses at-least-once duplicates (same event_id) on
-- merge; readers that must not double count use FINAL.
CREATE TABLE IF NOT EXISTS {{table "events"}} {{onCluster}}
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
ENGINE = {{engine "ReplacingMergeTree" "received_at"}}
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant_id, type, toDate(occurred_at), user_id, event_id)
{{dedupWindow}};

{{distributed "events" "cityHash64(tenant_id, user_id)"}}
