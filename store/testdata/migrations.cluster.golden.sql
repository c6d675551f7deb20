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

-- dead_letters
CREATE TABLE IF NOT EXISTS `dead_letters_local` ON CLUSTER `analytics`
(
    tenant_id   LowCardinality(String) COMMENT 'tenant of the subject, or _unknown',
    received_at DateTime64(3, 'UTC')   COMMENT 'when the firehose stored the envelope',
    subject     String                 COMMENT 'NATS subject the envelope arrived on',
    reason_code LowCardinality(String) COMMENT 'machine reason, e.g. missing_field',
    reason      String                 COMMENT 'what was wrong and what would be right',
    payload     String                 COMMENT 'the original bytes'
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(received_at)
ORDER BY (tenant_id, received_at)
TTL toDateTime(received_at) + INTERVAL 30 DAY;

-- dead_letters
CREATE TABLE IF NOT EXISTS `dead_letters` ON CLUSTER `analytics` AS `dead_letters_local` ENGINE = Distributed(`analytics`, currentDatabase(), `dead_letters_local`, cityHash64(tenant_id));

-- query_audit
CREATE TABLE IF NOT EXISTS `query_audit_local` ON CLUSTER `analytics`
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
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(at)
ORDER BY (tenant_id, at);

-- query_audit
CREATE TABLE IF NOT EXISTS `query_audit` ON CLUSTER `analytics` AS `query_audit_local` ENGINE = Distributed(`analytics`, currentDatabase(), `query_audit_local`, cityHash64(tenant_id));

-- metrics
CREATE TABLE IF NOT EXISTS `metrics_local` ON CLUSTER `analytics`
(
    tenant_id  LowCardinality(String),
    metric_id  String,
    key        String,
    version    UInt64,
    is_deleted UInt8,
    status     LowCardinality(String),
    definition String COMMENT 'JSON of metrics.Definition',
    updated_at DateTime64(3, 'UTC'),
    updated_by String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, metric_id);

-- metrics
CREATE TABLE IF NOT EXISTS `metrics` ON CLUSTER `analytics` AS `metrics_local` ENGINE = Distributed(`analytics`, currentDatabase(), `metrics_local`, cityHash64(tenant_id));

-- metrics
CREATE TABLE IF NOT EXISTS `metric_versions_local` ON CLUSTER `analytics`
(
    tenant_id  LowCardinality(String),
    metric_id  String,
    version    UInt64,
    action     LowCardinality(String),
    definition String COMMENT 'JSON of metrics.Definition at this version',
    updated_at DateTime64(3, 'UTC'),
    updated_by String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', updated_at)
ORDER BY (tenant_id, metric_id, version);

-- metrics
CREATE TABLE IF NOT EXISTS `metric_versions` ON CLUSTER `analytics` AS `metric_versions_local` ENGINE = Distributed(`analytics`, currentDatabase(), `metric_versions_local`, cityHash64(tenant_id));

-- metrics
CREATE TABLE IF NOT EXISTS `audit_log_local` ON CLUSTER `analytics`
(
    tenant_id   LowCardinality(String),
    at          DateTime64(3, 'UTC'),
    actor       String,
    action      LowCardinality(String),
    entity_type LowCardinality(String),
    entity_id   String,
    request_id  String,
    before      String COMMENT 'JSON, empty on create',
    after       String COMMENT 'JSON'
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(at)
ORDER BY (tenant_id, entity_type, entity_id, at);

-- metrics
CREATE TABLE IF NOT EXISTS `audit_log` ON CLUSTER `analytics` AS `audit_log_local` ENGINE = Distributed(`analytics`, currentDatabase(), `audit_log_local`, cityHash64(tenant_id));

-- metrics
CREATE TABLE IF NOT EXISTS `metrics_daily_local` ON CLUSTER `analytics`
(
    tenant_id   LowCardinality(String),
    day         Date,
    type        LowCardinality(String),
    course_id   String,
    events      SimpleAggregateFunction(sum, UInt64),
    users       AggregateFunction(uniqExact, String),
    score_sum   SimpleAggregateFunction(sum, Float64),
    score_n     SimpleAggregateFunction(sum, UInt64),
    score_min   SimpleAggregateFunction(min, Nullable(Float64)),
    score_max   SimpleAggregateFunction(max, Nullable(Float64)),
    seconds_sum SimpleAggregateFunction(sum, Float64),
    seconds_n   SimpleAggregateFunction(sum, UInt64),
    seconds_min SimpleAggregateFunction(min, Nullable(Float64)),
    seconds_max SimpleAggregateFunction(max, Nullable(Float64))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, day, type, course_id);

-- metrics
CREATE TABLE IF NOT EXISTS `metrics_daily` ON CLUSTER `analytics` AS `metrics_daily_local` ENGINE = Distributed(`analytics`, currentDatabase(), `metrics_daily_local`, cityHash64(tenant_id));

-- metrics
CREATE MATERIALIZED VIEW IF NOT EXISTS `metrics_daily_mv_local` ON CLUSTER `analytics`
TO `metrics_daily_local` AS
SELECT
    tenant_id,
    toDate(occurred_at) AS day,
    type,
    ifNull(accurateCastOrNull(properties.`course_id`, 'String'), '') AS course_id,
    toUInt64(count()) AS events,
    uniqExactState(user_id) AS users,
    ifNull(sum(accurateCastOrNull(properties.`score`, 'Float64')), 0) AS score_sum,
    toUInt64(count(accurateCastOrNull(properties.`score`, 'Float64'))) AS score_n,
    min(accurateCastOrNull(properties.`score`, 'Float64')) AS score_min,
    max(accurateCastOrNull(properties.`score`, 'Float64')) AS score_max,
    ifNull(sum(accurateCastOrNull(properties.`seconds`, 'Float64')), 0) AS seconds_sum,
    toUInt64(count(accurateCastOrNull(properties.`seconds`, 'Float64'))) AS seconds_n,
    min(accurateCastOrNull(properties.`seconds`, 'Float64')) AS seconds_min,
    max(accurateCastOrNull(properties.`seconds`, 'Float64')) AS seconds_max
FROM `events_local`
GROUP BY tenant_id, day, type, course_id;

-- dashboards
CREATE TABLE IF NOT EXISTS `dashboards_local` ON CLUSTER `analytics`
(
    tenant_id    LowCardinality(String),
    dashboard_id String,
    slug         String,
    version      UInt64,
    is_deleted   UInt8,
    title        String,
    definition   String COMMENT 'JSON of dashboards.Dashboard',
    updated_at   DateTime64(3, 'UTC'),
    updated_by   String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, dashboard_id);

-- dashboards
CREATE TABLE IF NOT EXISTS `dashboards` ON CLUSTER `analytics` AS `dashboards_local` ENGINE = Distributed(`analytics`, currentDatabase(), `dashboards_local`, cityHash64(tenant_id));

-- exports
CREATE TABLE IF NOT EXISTS `export_jobs_local` ON CLUSTER `analytics`
(
    tenant_id      LowCardinality(String),
    job_id         String,
    version        UInt64,
    is_deleted     UInt8,
    status         LowCardinality(String),
    format         LowCardinality(String),
    source         LowCardinality(String),
    spec           String COMMENT 'JSON of exports.Spec',
    requested_by   String,
    object_key     String,
    rows           UInt64,
    bytes          UInt64,
    error          String,
    created_at     DateTime64(3, 'UTC'),
    started_at     Nullable(DateTime64(3, 'UTC')),
    finished_at    Nullable(DateTime64(3, 'UTC')),
    url_expires_at Nullable(DateTime64(3, 'UTC')),
    expires_at     Nullable(DateTime64(3, 'UTC')) COMMENT 'when the janitor deletes the object',
    updated_at     DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, job_id);

-- exports
CREATE TABLE IF NOT EXISTS `export_jobs` ON CLUSTER `analytics` AS `export_jobs_local` ENGINE = Distributed(`analytics`, currentDatabase(), `export_jobs_local`, cityHash64(tenant_id));

-- cohorts
CREATE TABLE IF NOT EXISTS `cohorts_local` ON CLUSTER `analytics`
(
    tenant_id  LowCardinality(String),
    cohort_id  String,
    version    UInt64,
    is_deleted UInt8,
    name       String,
    active     UInt8,
    definition String COMMENT 'JSON of cohorts.Cohort',
    updated_at DateTime64(3, 'UTC'),
    updated_by String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, cohort_id);

-- cohorts
CREATE TABLE IF NOT EXISTS `cohorts` ON CLUSTER `analytics` AS `cohorts_local` ENGINE = Distributed(`analytics`, currentDatabase(), `cohorts_local`, cityHash64(tenant_id));

-- cohorts
CREATE TABLE IF NOT EXISTS `cohort_users_local` ON CLUSTER `analytics`
(
    tenant_id LowCardinality(String),
    cohort_id String,
    version   UInt64 COMMENT 'the evaluation: unix minutes of its scheduled time',
    user_id   String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY intDiv(version, 43200)
ORDER BY (tenant_id, cohort_id, version, user_id);

-- cohorts
CREATE TABLE IF NOT EXISTS `cohort_users` ON CLUSTER `analytics` AS `cohort_users_local` ENGINE = Distributed(`analytics`, currentDatabase(), `cohort_users_local`, cityHash64(tenant_id, cohort_id));

-- cohorts
CREATE TABLE IF NOT EXISTS `cohort_evaluations_local` ON CLUSTER `analytics`
(
    tenant_id     LowCardinality(String),
    cohort_id     String,
    version       UInt64,
    scheduled_for DateTime64(3, 'UTC'),
    evaluated_at  DateTime64(3, 'UTC'),
    size          UInt64,
    entered       UInt64,
    exited        UInt64,
    error         String COMMENT 'empty on success; the last good membership stays in force otherwise'
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', evaluated_at)
ORDER BY (tenant_id, cohort_id, version);

-- cohorts
CREATE TABLE IF NOT EXISTS `cohort_evaluations` ON CLUSTER `analytics` AS `cohort_evaluations_local` ENGINE = Distributed(`analytics`, currentDatabase(), `cohort_evaluations_local`, cityHash64(tenant_id));

-- privacy
CREATE TABLE IF NOT EXISTS `erasure_requests_local` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', step)
ORDER BY (tenant_id, request_id);

-- privacy
CREATE TABLE IF NOT EXISTS `erasure_requests` ON CLUSTER `analytics` AS `erasure_requests_local` ENGINE = Distributed(`analytics`, currentDatabase(), `erasure_requests_local`, cityHash64(tenant_id));

-- privacy
CREATE TABLE IF NOT EXISTS `privacy_salts_local` ON CLUSTER `analytics`
(
    tenant_id  LowCardinality(String),
    salt       String,
    created_at DateTime64(3, 'UTC'),
    rank       UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', rank)
ORDER BY tenant_id;

-- privacy
CREATE TABLE IF NOT EXISTS `privacy_salts` ON CLUSTER `analytics` AS `privacy_salts_local` ENGINE = Distributed(`analytics`, currentDatabase(), `privacy_salts_local`, cityHash64(tenant_id));

-- metrics_users
CREATE TABLE IF NOT EXISTS `metrics_daily_users_local` ON CLUSTER `analytics`
(
    tenant_id LowCardinality(String),
    day       Date,
    course_id String,
    users     AggregateFunction(uniqExact, String)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, day, course_id);

-- metrics_users
CREATE TABLE IF NOT EXISTS `metrics_daily_users` ON CLUSTER `analytics` AS `metrics_daily_users_local` ENGINE = Distributed(`analytics`, currentDatabase(), `metrics_daily_users_local`, cityHash64(tenant_id));

-- metrics_users
CREATE MATERIALIZED VIEW IF NOT EXISTS `metrics_daily_users_mv_local` ON CLUSTER `analytics`
TO `metrics_daily_users_local` AS
SELECT
    tenant_id,
    toDate(occurred_at) AS day,
    ifNull(accurateCastOrNull(properties.`course_id`, 'String'), '') AS course_id,
    uniqExactState(user_id) AS users
FROM `events_local`
GROUP BY tenant_id, day, course_id;

-- reports
CREATE TABLE IF NOT EXISTS `reports_local` ON CLUSTER `analytics`
(
    tenant_id      LowCardinality(String),
    report_id      String,
    version        UInt64,
    is_deleted     UInt8,
    name           String,
    enabled        UInt8,
    definition     String COMMENT 'JSON of reports.Input (webhook secrets included)',
    owner          String,
    created_at     DateTime64(3, 'UTC'),
    updated_at     DateTime64(3, 'UTC'),
    scheduled_from DateTime64(3, 'UTC') COMMENT 'slots before it never run'
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, report_id);

-- reports
CREATE TABLE IF NOT EXISTS `reports` ON CLUSTER `analytics` AS `reports_local` ENGINE = Distributed(`analytics`, currentDatabase(), `reports_local`, cityHash64(tenant_id));

-- reports
CREATE TABLE IF NOT EXISTS `report_runs_local` ON CLUSTER `analytics`
(
    tenant_id     LowCardinality(String),
    report_id     String,
    run_id        String COMMENT 'hash of (report, trigger, scheduled_for): the unique run key',
    version       UInt64,
    is_deleted    UInt8,
    trigger       LowCardinality(String),
    scheduled_for DateTime64(3, 'UTC'),
    status        LowCardinality(String),
    format        LowCardinality(String),
    object_key    String,
    bytes         UInt64,
    period_from   DateTime64(3, 'UTC'),
    period_to     DateTime64(3, 'UTC'),
    error         String,
    created_at    DateTime64(3, 'UTC'),
    started_at    Nullable(DateTime64(3, 'UTC')),
    finished_at   Nullable(DateTime64(3, 'UTC')),
    updated_at    DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, report_id, run_id);

-- reports
CREATE TABLE IF NOT EXISTS `report_runs` ON CLUSTER `analytics` AS `report_runs_local` ENGINE = Distributed(`analytics`, currentDatabase(), `report_runs_local`, cityHash64(tenant_id));

-- reports
CREATE TABLE IF NOT EXISTS `report_deliveries_local` ON CLUSTER `analytics`
(
    tenant_id       LowCardinality(String),
    report_id       String,
    run_id          String,
    idx             UInt16 COMMENT 'position of the delivery in the report',
    version         UInt64,
    is_deleted      UInt8,
    kind            LowCardinality(String),
    target          String,
    status          LowCardinality(String),
    attempts        UInt32,
    last_error      String,
    last_attempt_at Nullable(DateTime64(3, 'UTC')),
    delivered_at    Nullable(DateTime64(3, 'UTC')),
    updated_at      DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, report_id, run_id, idx);

-- reports
CREATE TABLE IF NOT EXISTS `report_deliveries` ON CLUSTER `analytics` AS `report_deliveries_local` ENGINE = Distributed(`analytics`, currentDatabase(), `report_deliveries_local`, cityHash64(tenant_id));

-- reports_schedule
CREATE TABLE IF NOT EXISTS `report_schedules_local` ON CLUSTER `analytics`
(
    tenant_id      LowCardinality(String),
    report_id      String,
    version        UInt64,
    is_deleted     UInt8,
    next_run_at    DateTime64(3, 'UTC') COMMENT 'the tick looks at the report once this has passed',
    last_slot      DateTime64(3, 'UTC') COMMENT 'latest scheduled slot enqueued (zero: none yet)',
    report_version UInt64 COMMENT 'version of the report row next_run_at was computed from',
    INDEX next_run_idx next_run_at TYPE minmax GRANULARITY 1
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, report_id);

-- reports_schedule
CREATE TABLE IF NOT EXISTS `report_schedules` ON CLUSTER `analytics` AS `report_schedules_local` ENGINE = Distributed(`analytics`, currentDatabase(), `report_schedules_local`, cityHash64(tenant_id));

-- reports_schedule
INSERT INTO report_schedules (tenant_id, report_id, version, is_deleted, next_run_at, last_slot, report_version)
SELECT r.tenant_id, r.report_id, 1, 0, r.scheduled_from, ifNull(l.last_slot, toDateTime64(0, 3, 'UTC')), r.version
FROM (SELECT tenant_id, report_id, version, scheduled_from FROM reports FINAL WHERE enabled = 1) AS r
LEFT JOIN (SELECT tenant_id, report_id, max(scheduled_for) AS last_slot FROM report_runs FINAL
           WHERE trigger = 'SCHEDULED' GROUP BY tenant_id, report_id) AS l
       ON r.tenant_id = l.tenant_id AND r.report_id = l.report_id;

-- reports_schedule
ALTER TABLE `report_runs_local` ON CLUSTER `analytics` ADD COLUMN IF NOT EXISTS expired_at Nullable(DateTime64(3, 'UTC'));

-- reports_schedule
ALTER TABLE report_runs ON CLUSTER `analytics` ADD COLUMN IF NOT EXISTS expired_at Nullable(DateTime64(3, 'UTC'));

-- metrics_daily_active
CREATE TABLE IF NOT EXISTS `metrics_daily_active_local` ON CLUSTER `analytics`
(
    tenant_id LowCardinality(String),
    day       Date,
    users     AggregateFunction(uniqExact, String)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, day);

-- metrics_daily_active
CREATE TABLE IF NOT EXISTS `metrics_daily_active` ON CLUSTER `analytics` AS `metrics_daily_active_local` ENGINE = Distributed(`analytics`, currentDatabase(), `metrics_daily_active_local`, cityHash64(tenant_id));

-- metrics_daily_active
CREATE MATERIALIZED VIEW IF NOT EXISTS `metrics_daily_active_mv_local` ON CLUSTER `analytics`
TO `metrics_daily_active_local` AS
SELECT
    tenant_id,
    toDate(occurred_at) AS day,
    uniqExactState(user_id) AS users
FROM `events_local`
GROUP BY tenant_id, day;

-- monitors
CREATE TABLE IF NOT EXISTS `monitors_local` ON CLUSTER `analytics`
(
    tenant_id  LowCardinality(String),
    monitor_id String,
    version    UInt64,
    is_deleted UInt8,
    name       String,
    active     UInt8,
    definition String COMMENT 'JSON of monitors.Monitor',
    updated_at DateTime64(3, 'UTC'),
    updated_by String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, monitor_id);

-- monitors
CREATE TABLE IF NOT EXISTS `monitors` ON CLUSTER `analytics` AS `monitors_local` ENGINE = Distributed(`analytics`, currentDatabase(), `monitors_local`, cityHash64(tenant_id));

-- monitors
CREATE TABLE IF NOT EXISTS `monitor_scores_local` ON CLUSTER `analytics`
(
    tenant_id    LowCardinality(String),
    monitor_id   String,
    series_key   String COMMENT 'the series labels as JSON (keys sorted); {} for the whole metric',
    bucket       DateTime64(3, 'UTC'),
    value        Float64,
    expected     Float64 COMMENT 'NaN while the model warms up',
    lower        Float64,
    upper        Float64,
    score        Float64,
    confidence   Float64,
    anomalous    UInt8,
    detector     LowCardinality(String),
    query        String COMMENT 'JSON of the metric request that produced value',
    evaluated_at DateTime64(3, 'UTC') COMMENT 'the scheduled time of the evaluation',
    version      UInt64 COMMENT 'monitor version: a retuned monitor rewrites its scores'
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', evaluated_at)
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant_id, monitor_id, series_key, bucket);

-- monitors
CREATE TABLE IF NOT EXISTS `monitor_scores` ON CLUSTER `analytics` AS `monitor_scores_local` ENGINE = Distributed(`analytics`, currentDatabase(), `monitor_scores_local`, cityHash64(tenant_id, monitor_id));

-- monitors
CREATE TABLE IF NOT EXISTS `monitor_runs_local` ON CLUSTER `analytics`
(
    tenant_id     LowCardinality(String),
    monitor_id    String,
    scheduled_for DateTime64(3, 'UTC'),
    kind          LowCardinality(String) COMMENT 'tick or backfill',
    version       UInt64 COMMENT 'the monitor version evaluated',
    series        UInt32,
    scored        UInt32,
    errors        String COMMENT 'JSON list of {series, error}; empty list when none',
    evaluated_at  DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', evaluated_at)
ORDER BY (tenant_id, monitor_id, version, scheduled_for, kind);

-- monitors
CREATE TABLE IF NOT EXISTS `monitor_runs` ON CLUSTER `analytics` AS `monitor_runs_local` ENGINE = Distributed(`analytics`, currentDatabase(), `monitor_runs_local`, cityHash64(tenant_id));

-- alerts
CREATE TABLE IF NOT EXISTS `alert_rules_local` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, rule_id);

-- alerts
CREATE TABLE IF NOT EXISTS `alert_rules` ON CLUSTER `analytics` AS `alert_rules_local` ENGINE = Distributed(`analytics`, currentDatabase(), `alert_rules_local`, cityHash64(tenant_id));

-- alerts
CREATE TABLE IF NOT EXISTS `alert_states_local` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, rule_id, series_key);

-- alerts
CREATE TABLE IF NOT EXISTS `alert_states` ON CLUSTER `analytics` AS `alert_states_local` ENGINE = Distributed(`analytics`, currentDatabase(), `alert_states_local`, cityHash64(tenant_id));

-- alerts
CREATE TABLE IF NOT EXISTS `alert_rule_status_local` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, rule_id);

-- alerts
CREATE TABLE IF NOT EXISTS `alert_rule_status` ON CLUSTER `analytics` AS `alert_rule_status_local` ENGINE = Distributed(`analytics`, currentDatabase(), `alert_rule_status_local`, cityHash64(tenant_id));

-- alerts
CREATE TABLE IF NOT EXISTS `alert_history_local` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', at)
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant_id, rule_id, bucket, series_key);

-- alerts
CREATE TABLE IF NOT EXISTS `alert_history` ON CLUSTER `analytics` AS `alert_history_local` ENGINE = Distributed(`analytics`, currentDatabase(), `alert_history_local`, cityHash64(tenant_id));

-- alerts
CREATE TABLE IF NOT EXISTS `alert_deliveries_local` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, delivery_key);

-- alerts
CREATE TABLE IF NOT EXISTS `alert_deliveries` ON CLUSTER `analytics` AS `alert_deliveries_local` ENGINE = Distributed(`analytics`, currentDatabase(), `alert_deliveries_local`, cityHash64(tenant_id));

-- alerts
CREATE TABLE IF NOT EXISTS `alert_channels_local` ON CLUSTER `analytics`
(
    tenant_id      LowCardinality(String),
    version        UInt64,
    is_deleted     UInt8,
    emails         Array(String),
    webhook_url    String,
    webhook_secret String,
    updated_at     DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY tenant_id;

-- alerts
CREATE TABLE IF NOT EXISTS `alert_channels` ON CLUSTER `analytics` AS `alert_channels_local` ENGINE = Distributed(`analytics`, currentDatabase(), `alert_channels_local`, cityHash64(tenant_id));

-- insights
CREATE TABLE IF NOT EXISTS `insights_local` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, insight_id);

-- insights
CREATE TABLE IF NOT EXISTS `insights` ON CLUSTER `analytics` AS `insights_local` ENGINE = Distributed(`analytics`, currentDatabase(), `insights_local`, cityHash64(tenant_id));

-- insights
CREATE TABLE IF NOT EXISTS `insight_feedback_local` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, is_deleted)
ORDER BY (tenant_id, insight_id, rated_by);

-- insights
CREATE TABLE IF NOT EXISTS `insight_feedback` ON CLUSTER `analytics` AS `insight_feedback_local` ENGINE = Distributed(`analytics`, currentDatabase(), `insight_feedback_local`, cityHash64(tenant_id));

-- monitor_reviews
CREATE TABLE IF NOT EXISTS `monitor_reviews_local` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', reviewed_at)
ORDER BY (tenant_id, monitor_id, version, series_key, bucket);

-- monitor_reviews
CREATE TABLE IF NOT EXISTS `monitor_reviews` ON CLUSTER `analytics` AS `monitor_reviews_local` ENGINE = Distributed(`analytics`, currentDatabase(), `monitor_reviews_local`, cityHash64(tenant_id, monitor_id));

-- api_keys
CREATE TABLE IF NOT EXISTS `api_keys_local` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version)
ORDER BY (tenant_id, key_id);

-- api_keys
CREATE TABLE IF NOT EXISTS `api_keys` ON CLUSTER `analytics` AS `api_keys_local` ENGINE = Distributed(`analytics`, currentDatabase(), `api_keys_local`, cityHash64(tenant_id));

-- metrics_daily_writes
CREATE TABLE IF NOT EXISTS `metrics_daily_writes_local` ON CLUSTER `analytics`
(
    tenant_id  LowCardinality(String),
    day        Date,
    written_at SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (tenant_id, day);

-- metrics_daily_writes
CREATE TABLE IF NOT EXISTS `metrics_daily_writes` ON CLUSTER `analytics` AS `metrics_daily_writes_local` ENGINE = Distributed(`analytics`, currentDatabase(), `metrics_daily_writes_local`, cityHash64(tenant_id));

-- metrics_daily_writes
CREATE MATERIALIZED VIEW IF NOT EXISTS `metrics_daily_writes_mv_local` ON CLUSTER `analytics`
TO `metrics_daily_writes_local` AS
SELECT
    tenant_id,
    toDate(occurred_at) AS day,
    max(now64(3, 'UTC')) AS written_at
FROM `events_local`
GROUP BY tenant_id, day;

-- metrics_daily_writes
CREATE TABLE IF NOT EXISTS `metrics_daily_rebuilds_local` ON CLUSTER `analytics`
(
    tenant_id  LowCardinality(String) COMMENT 'empty: a rebuild of every tenant',
    day        Date,
    rebuilt_at SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (tenant_id, day);

-- metrics_daily_writes
CREATE TABLE IF NOT EXISTS `metrics_daily_rebuilds` ON CLUSTER `analytics` AS `metrics_daily_rebuilds_local` ENGINE = Distributed(`analytics`, currentDatabase(), `metrics_daily_rebuilds_local`, cityHash64(tenant_id));

-- metrics_daily_user_counts
ALTER TABLE `metrics_daily_users_local` ON CLUSTER `analytics` ADD COLUMN IF NOT EXISTS users_n SimpleAggregateFunction(min, UInt64) DEFAULT 0;

-- metrics_daily_user_counts
ALTER TABLE metrics_daily_users ON CLUSTER `analytics` ADD COLUMN IF NOT EXISTS users_n SimpleAggregateFunction(min, UInt64) DEFAULT 0;

-- metrics_daily_user_counts
ALTER TABLE `metrics_daily_active_local` ON CLUSTER `analytics` ADD COLUMN IF NOT EXISTS users_n SimpleAggregateFunction(min, UInt64) DEFAULT 0;

-- metrics_daily_user_counts
ALTER TABLE metrics_daily_active ON CLUSTER `analytics` ADD COLUMN IF NOT EXISTS users_n SimpleAggregateFunction(min, UInt64) DEFAULT 0;

