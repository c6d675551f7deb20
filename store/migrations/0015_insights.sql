-- AI insights (package insights): one current row per (tenant, insight),
-- ReplacingMergeTree on version with is_deleted, read with FINAL. Every
-- state change (queued, running, each progress step, succeeded, failed)
-- writes a new version; the answer (interpretation, explanation, findings,
-- charts, evidence, grounding, confidence, provenance) is one JSON column.
-- Ratings: one current row per (tenant, insight, user), newest wins.
CREATE TABLE IF NOT EXISTS {{table "insights"}} {{onCluster}}
(
    tenant_id      LowCardinality(String),
    insight_id     String,
    version        UInt64,
    is_deleted     UInt8,
    status         LowCardinality(String),
    engine         LowCardinality(String),
    question       String,
    context        String COMMENT 'JSON of insights.Context',
    asked_by       String,
    answer         String COMMENT 'JSON of insights.Answer; empty until SUCCEEDED',
    steps          String COMMENT 'JSON array of insights.Step',
    error          String,
    created_at     DateTime64(3, 'UTC'),
    started_at     Nullable(DateTime64(3, 'UTC')),
    finished_at    Nullable(DateTime64(3, 'UTC')),
    updated_at     DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, insight_id);

{{distributed "insights" "cityHash64(tenant_id)"}};

CREATE TABLE IF NOT EXISTS {{table "insight_feedback"}} {{onCluster}}
(
    tenant_id  LowCardinality(String),
    insight_id String,
    rated_by   String,
    version    UInt64,
    is_deleted UInt8,
    useful     UInt8,
    comment    String,
    rated_at   DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "version" "is_deleted"}}
ORDER BY (tenant_id, insight_id, rated_by);

{{distributed "insight_feedback" "cityHash64(tenant_id)"}};
