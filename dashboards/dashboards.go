// Package dashboards stores tenants' dashboards (a grid of widgets, each
// showing one or more metrics, or one journey: a funnel, a retention
// triangle or paths) and renders them: every widget's metric
// requests go through one metrics.Loader per render, so widgets over the
// same range, grain and filters share a ClickHouse query, and each widget's
// data is cached in Redis for a short time per normalised filter set.
//
// Storage (migration 0005_dashboards.sql): table dashboards, one current
// row per (tenant, dashboard), ReplacingMergeTree(version, is_deleted) read
// with FINAL; the widgets are JSON inside the row so a dashboard and its
// widgets change atomically under one version. Commands write audit_log.
package dashboards

import (
	"time"

	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/timerange"
)

// WidgetKind is how a widget draws its data.
type WidgetKind string

// The widget kinds.
const (
	KindKPI   WidgetKind = "KPI"   // one number per metric (a total over the range)
	KindLine  WidgetKind = "LINE"  // series over time
	KindBar   WidgetKind = "BAR"   // values per dimension value
	KindArea  WidgetKind = "AREA"  // series over time, filled
	KindTable WidgetKind = "TABLE" // rows per dimension value (top-N with Limit)
	KindPie   WidgetKind = "PIE"   // shares per dimension value
	// The journey kinds show a journeys.Query (WidgetInput.Journey)
	// instead of metrics.
	KindFunnel    WidgetKind = "FUNNEL"    // a funnel's steps (bars), per breakdown value
	KindRetention WidgetKind = "RETENTION" // a retention triangle (heat-map table)
	KindPaths     WidgetKind = "PATHS"     // a paths Sankey (nodes and edges)
	// KindInsight shows one stored chart of an answered insight
	// (WidgetInput.Insight, see insight.go).
	KindInsight WidgetKind = "INSIGHT"
)

// widgetKinds lists every kind, for validation messages.
var widgetKinds = []WidgetKind{KindKPI, KindLine, KindBar, KindArea, KindTable, KindPie, KindFunnel, KindRetention, KindPaths, KindInsight}

// Journey reports whether widgets of kind k show a journey query.
func (k WidgetKind) Journey() bool {
	return k == KindFunnel || k == KindRetention || k == KindPaths
}

// Dashboard is one dashboard as stored: what the caller wrote plus the
// fields the service owns.
type Dashboard struct {
	ID string // assigned by the service
	Input
	// Widgets are in display order; each has an id unique in the dashboard.
	Widgets []Widget

	Version   uint64 // bumped by every command, widget commands included
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

// Input is the dashboard-level fields a caller writes on Create and Update.
type Input struct {
	// Slug is unique per tenant, [a-z0-9][a-z0-9-]{0,63}; Get accepts it
	// in place of the id.
	Slug        string
	Title       string
	Description string
	// TimeRange is the default window of a render; the zero Spec means DefaultTimeRange.
	TimeRange timerange.Spec
	// Timezone is the IANA zone buckets and to-date ranges follow; empty means UTC.
	Timezone string
	// Filters are the dashboard's filters with their default values; a
	// render may override them by dimension.
	Filters []FilterDef
	Layout  Layout
}

// FilterDef is a dashboard filter: a dimension, an operator and default
// values (empty values mean "no filter until the viewer picks one").
type FilterDef struct {
	Dimension string
	Op        metrics.Op
	Values    []string
	Label     string // display name; empty means the dimension
}

// Layout is the grid the widgets are placed on.
type Layout struct {
	// Columns is the grid width; zero means DefaultColumns.
	Columns int
}

// DefaultColumns is the grid width when Layout.Columns is zero.
const DefaultColumns = 12

// DefaultTimeRange is a render's window when neither the dashboard nor the
// caller gives one.
var DefaultTimeRange = timerange.Spec{Last: "30d"}

// Widget is one tile of a dashboard.
type Widget struct {
	ID string // assigned by the service
	WidgetInput
	// Version is bumped whenever this widget changes; part of its cache key.
	Version uint64
}

// WidgetInput is what a caller writes when adding or updating a widget.
type WidgetInput struct {
	Title string
	Kind  WidgetKind
	// MetricKeys are the metrics shown (at least one), e.g. two lines.
	MetricKeys []string
	// Dimensions group each metric; each must be allowed by every metric.
	Dimensions []string
	// Grain buckets the series: empty means a total for KPI, BAR, TABLE and
	// PIE and the metric's default grain for LINE and AREA; metrics.GrainTotal
	// forces a total.
	Grain metrics.Grain
	// Limit keeps the top Limit series (the rest fold into one "(other)"
	// series); zero means all. Typical for TABLE and PIE.
	Limit int
	// Cohorts keep only the events of users in (or not in) each cohort,
	// for every metric of the widget; dashboard filters still apply.
	Cohorts []metrics.CohortFilter
	// CohortBreakdown, a cohort id, splits each metric into the series
	// metrics.InCohort and metrics.NotInCohort (the last dimension).
	CohortBreakdown string
	// Journey is the question of a FUNNEL, RETENTION or PATHS widget
	// (exactly the one of its kind; MetricKeys, Dimensions and the cohort
	// fields stay empty: the query carries its own cohorts and breakdown).
	// A query without a time range follows the dashboard's window; one
	// with a range keeps it (a 12-week retention on a 7-day dashboard).
	// Its time zone, when empty, is the dashboard's.
	Journey *journeys.Query `json:",omitempty"`
	// Overlay, on a LINE widget of one metric at HOUR or DAY grain, adds a
	// forecast band and anomaly markers to its data (overlay.go).
	Overlay *Overlay `json:",omitempty"`
	// Insight is the stored chart an INSIGHT widget shows (and only it:
	// the metric, cohort and journey fields stay empty).
	Insight *InsightRef `json:",omitempty"`
	// Options are display hints the service stores but does not interpret
	// (colours, stacking, number format).
	Options  map[string]string
	Position Position
}

// Position places a widget on the layout grid, in grid cells. The zero
// Position means "not given": the service places the widget (see place).
type Position struct {
	X, Y, W, H int
}
