-- LLM reviews of monitor scores (package monitors, review.go): one row per
-- (monitor version, series, bucket) the reviewer looked at. It sits beside
-- monitor_scores and never changes it: the statistical score stays as the
-- detector wrote it, the reviewed confidence is kept here next to the score
-- it was applied to (a review whose score no longer matches the stored one
-- is stale and ignored). The newest review (reviewed_at) wins.
CREATE TABLE IF NOT EXISTS {{table "monitor_reviews"}} {{onCluster}}
(
    tenant_id           LowCardinality(String),
    monitor_id          String,
    version             UInt64 COMMENT 'monitor version reviewed',
    series_key          String COMMENT 'the series labels as JSON (keys sorted), as in monitor_scores',
    bucket              DateTime64(3, 'UTC'),
    mode                LowCardinality(String) COMMENT 'EXPLAIN or RERANK',
    status              LowCardinality(String) COMMENT 'REVIEWED, SKIPPED_BUDGET, SKIPPED_LIMIT or FAILED',
    verdict             LowCardinality(String) COMMENT 'CONFIRM, DOWNGRADE or UPGRADE; empty unless REVIEWED',
    explanation         String COMMENT 'the model explanation, at most 400 characters',
    reason              String COMMENT 'the model reason, or why the review failed',
    model               LowCardinality(String),
    score               Float64 COMMENT 'the statistical score the review saw (unchanged)',
    reviewed_confidence Float64 COMMENT 'RERANK: the bounded reviewed confidence; NaN otherwise',
    reviewed_anomalous  UInt8 COMMENT 'RERANK: the flag after review; else the statistical flag',
    tokens              UInt32,
    reviewed_at         DateTime64(3, 'UTC') COMMENT 'the scheduled time of the evaluation'
)
ENGINE = {{engine "ReplacingMergeTree" "reviewed_at"}}
ORDER BY (tenant_id, monitor_id, version, series_key, bucket);

{{distributed "monitor_reviews" "cityHash64(tenant_id, monitor_id)"}};
