-- Alert rules (package alerts): definitions, the current state of every
-- series, each rule's last evaluated bucket, the state history with values,
-- the notification delivery log and the tenant's admin alert channels.
-- Versioned tables are ReplacingMergeTree on version (read with FINAL);
-- the history is keyed by (rule, bucket, series) so a retried evaluation
-- writes the same row again.
CREATE TABLE IF NOT EXISTS {{table "alert_rules"}} {{onCluster}}
(
    tenant_id  LowCardinality(String),
    rule_id    String COMMENT 'uuid, or default:<metric key> for a tuned default rule',
    version    UInt64,
    is_deleted UInt8,
    name       String,
    enabled    UInt8,
    definition String COMMENT 'JSON of alerts.Input (webhook secrets included)',
    owner      String,
    created_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, rule_id);

{{distributed "alert_rules" "cityHash64(tenant_id)"}};

CREATE TABLE IF NOT EXISTS {{table "alert_states"}} {{onCluster}}
(
    tenant_id    LowCardinality(String),
    rule_id      String,
    series_key   String COMMENT 'canonical JSON of the series labels ({} for the total)',
    version      UInt64,
    is_deleted   UInt8,
    labels       String COMMENT 'JSON object of the series labels',
    state        LowCardinality(String),
    since        DateTime64(3, 'UTC'),
    fired_bucket DateTime64(3, 'UTC') COMMENT 'bucket of the transition to FIRING of the current alert',
    last_bucket  DateTime64(3, 'UTC'),
    prev_state        LowCardinality(String) COMMENT 'the state before last_bucket was evaluated: a re-evaluation of that bucket starts from it',
    prev_since        DateTime64(3, 'UTC'),
    prev_fired_bucket DateTime64(3, 'UTC'),
    last_value   Nullable(Float64),
    updated_at   DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, rule_id, series_key);

{{distributed "alert_states" "cityHash64(tenant_id)"}};

CREATE TABLE IF NOT EXISTS {{table "alert_rule_status"}} {{onCluster}}
(
    tenant_id        LowCardinality(String),
    rule_id          String,
    version          UInt64,
    is_deleted       UInt8,
    last_bucket      DateTime64(3, 'UTC') COMMENT 'latest bucket evaluated',
    last_error       String,
    last_notified_at DateTime64(3, 'UTC') COMMENT 'bucket of the last FIRING notification (repeat interval)',
    evaluated_at     DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, rule_id);

{{distributed "alert_rule_status" "cityHash64(tenant_id)"}};

CREATE TABLE IF NOT EXISTS {{table "alert_history"}} {{onCluster}}
(
    tenant_id  LowCardinality(String),
    rule_id    String,
    bucket     DateTime64(3, 'UTC'),
    series_key String,
    labels     String,
    from_state LowCardinality(String),
    state      LowCardinality(String),
    value      Nullable(Float64),
    expected   Nullable(Float64),
    error      String,
    at         DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "at"}}
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant_id, rule_id, bucket, series_key);

{{distributed "alert_history" "cityHash64(tenant_id)"}};

CREATE TABLE IF NOT EXISTS {{table "alert_deliveries"}} {{onCluster}}
(
    tenant_id    LowCardinality(String),
    delivery_key String COMMENT 'hash of (tenant, rule, bucket, notification kind, channel)',
    version      UInt64,
    is_deleted   UInt8,
    rule_id      String,
    channel      String COMMENT 'EMAIL:<recipients> or WEBHOOK:<url>',
    status       LowCardinality(String),
    attempts     UInt32,
    last_error   String,
    delivered_at Nullable(DateTime64(3, 'UTC')),
    updated_at   DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, delivery_key);

{{distributed "alert_deliveries" "cityHash64(tenant_id)"}};

CREATE TABLE IF NOT EXISTS {{table "alert_channels"}} {{onCluster}}
(
    tenant_id      LowCardinality(String),
    version        UInt64,
    is_deleted     UInt8,
    emails         Array(String),
    webhook_url    String,
    webhook_secret String,
    updated_at     DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY tenant_id;

{{distributed "alert_channels" "cityHash64(tenant_id)"}};
