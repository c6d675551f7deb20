-- Each users rollup row's distinct users as a number, written by the
-- rebuild (metrics.Rollups.Rebuild) beside the uniqExact state, so unique
-- users per day (and per course and day) read a number instead of
-- deserialising every day's state (~100 000 users a day took a third of
-- a month of daily active learners). The views do not write it: their rows
-- get 0, and min() keeps 0 once merged, so a (tenant, day[, course]) with
-- a write since its last rebuild, or never rebuilt, reads 0 and the query
-- counts its state instead (metrics/rollup.go, compileStoredGroups). The
-- second statement of each pair alters the Distributed table on a
-- cluster (a no-op repeat on a single node).
ALTER TABLE {{table "metrics_daily_users"}} {{onCluster}} ADD COLUMN IF NOT EXISTS users_n SimpleAggregateFunction(min, UInt64) DEFAULT 0;
ALTER TABLE metrics_daily_users {{onCluster}} ADD COLUMN IF NOT EXISTS users_n SimpleAggregateFunction(min, UInt64) DEFAULT 0;
ALTER TABLE {{table "metrics_daily_active"}} {{onCluster}} ADD COLUMN IF NOT EXISTS users_n SimpleAggregateFunction(min, UInt64) DEFAULT 0;
ALTER TABLE metrics_daily_active {{onCluster}} ADD COLUMN IF NOT EXISTS users_n SimpleAggregateFunction(min, UInt64) DEFAULT 0
