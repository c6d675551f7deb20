// Package metrics is the semantic layer: tenants define metrics once
// (what to count, over which events, which dimensions may slice them), the
// Registry versions and audits those definitions in ClickHouse, and the
// Querier compiles a definition plus a request into tenant-guarded SQL —
// batched across metrics through a dataloader and answered from daily
// rollups when the request allows it.
//
// Storage (migration 0004_metrics.sql):
//
//   - metrics: the current definition per (tenant, metric id);
//     ReplacingMergeTree(version, is_deleted), read with FINAL.
//   - metric_versions: every version ever written, one row per
//     (tenant, metric id, version); the history a UI can diff.
//   - audit_log: one row per command (who, what, before/after JSON).
//   - metrics_daily: per (tenant, day, type, course_id) pre-aggregates kept
//     current by a materialized view from events; redelivered duplicates
//     are counted twice until RebuildRollupsJob recomputes the day.
//   - metrics_daily_users: distinct users per (tenant, day, course_id) over
//     every event type, for active-user metrics that do not use type.
//   - metrics_daily_active: distinct users per (tenant, day) over every
//     event, for active-user metrics with no dimension and no filter.
package metrics

import "github.com/learnhub/analytics-service/timerange"

// Kind is how a metric aggregates.
type Kind string

// The metric kinds.
const (
	KindCount       Kind = "COUNT"        // number of matching events
	KindUniqueUsers Kind = "UNIQUE_USERS" // distinct user_id of matching events
	KindSum         Kind = "SUM"          // sum of the value property
	KindAvg         Kind = "AVG"          // mean of the value property
	KindMin         Kind = "MIN"          // smallest value
	KindMax         Kind = "MAX"          // largest value
	KindPercentile  Kind = "PERCENTILE"   // the Percentile-th quantile of the value
	KindRatio       Kind = "RATIO"        // Numerator / Denominator (metric keys)
	KindFormula     Kind = "FORMULA"      // arithmetic over other metrics' keys
	KindConversion  Kind = "CONVERSION"   // share of users doing Start then End within Window
	KindCumulative  Kind = "CUMULATIVE"   // running total of Base over the buckets
)

// kinds lists every kind, for validation messages.
var kinds = []Kind{KindCount, KindUniqueUsers, KindSum, KindAvg, KindMin, KindMax, KindPercentile,
	KindRatio, KindFormula, KindConversion, KindCumulative}

// Status is a metric's lifecycle state.
type Status string

// The statuses.
const (
	StatusActive     Status = "ACTIVE"
	StatusDeprecated Status = "DEPRECATED"
)

// Grain re-exports timerange.Grain so callers need one import.
type Grain = timerange.Grain
