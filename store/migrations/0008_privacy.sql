-- Privacy (package privacy). erasure_requests is the state of each erasure
-- saga, one current row per (tenant, request): ReplacingMergeTree on step, so
-- the furthest step written wins and a replayed request resumes from it. The
-- raw user id is never stored, only its salted per-tenant hash.
CREATE TABLE IF NOT EXISTS {{table "erasure_requests"}} {{onCluster}}
(
    tenant_id        LowCardinality(String),
    request_id       String,
    user_hash        String COMMENT 'salted per-tenant hash of the user id',
    requested_at     DateTime64(3, 'UTC'),
    step             UInt32 COMMENT '1 requested, 2 hot_started, 3 hot_done, 4 cold_done, 5 completed',
    status           LowCardinality(String),
    rollup_days      String COMMENT 'comma-separated UTC days whose rollups are rebuilt',
    hot_events       UInt64,
    hot_dead_letters UInt64,
    hot_cohort_users UInt64,
    cold_objects     UInt64,
    cold_rows        UInt64,
    error            String COMMENT 'last failure of this step; empty when it succeeded',
    updated_at       DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "step"}}
ORDER BY (tenant_id, request_id);

{{distributed "erasure_requests" "cityHash64(tenant_id)"}};

-- One salt per tenant for pseudonymising user ids in the cold tier and in
-- receipts, created on first use. rank = 2^63 - creation time in ns, so when
-- two workers create a salt at once the first one written is the one kept.
CREATE TABLE IF NOT EXISTS {{table "privacy_salts"}} {{onCluster}}
(
    tenant_id  LowCardinality(String),
    salt       String,
    created_at DateTime64(3, 'UTC'),
    rank       UInt64
)
ENGINE = {{engine "ReplacingMergeTree" "rank"}}
ORDER BY tenant_id;

{{distributed "privacy_salts" "cityHash64(tenant_id)"}};
