// Package resolvers implements the GraphQL schema: each resolver relies on
// the @hasRole directive for the caller check, calls a domain service and
// maps the result. No SQL and no business rules live here.
package resolvers

import (
	"context"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/apikeys"
	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/graph"
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/live"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/privacy"
	"github.com/learnhub/analytics-service/reports"
	"github.com/learnhub/analytics-service/timerange"
)

// ServerInfo is what serverInfo reports; fixed at startup.
type ServerInfo struct {
	Version           string
	ClickHouseVersion string
	Mode              string
}

// Resolver holds the services the resolvers call. It is built once in the
// composition root and shared by all requests.
//
// Naming: every dependency is <Domain><Role> after what it is (EventService,
// MetricRegistry, LiveHub ...). The suffix keeps a field from being shadowed
// by a generated resolver method of the same GraphQL name (queryResolver has
// Cohorts(), Metrics(), DeadLetters() ...), so r.CohortService always means
// the field.
type Resolver struct {
	// Info is what serverInfo reports.
	Info ServerInfo
	// EventService counts events per type.
	EventService *events.Service
	// MetricRegistry holds metric definitions; MetricQuerier reads values.
	MetricRegistry *metrics.Registry
	MetricQuerier  *metrics.Querier
	// AdhocService runs tenant SQL through the restricted grammar.
	AdhocService *adhoc.Service
	// CohortService defines and evaluates cohorts.
	CohortService *cohorts.Service
	// MonitorService stores monitors and answers their scores, anomalies and forecasts.
	MonitorService *monitors.Service
	// APIKeyService issues, lists and revokes API keys.
	APIKeyService *apikeys.Service
	// JourneyService answers funnels, retention and paths.
	JourneyService *journeys.Service
	// LiveHub shares refreshers of live subscriptions.
	LiveHub *live.Hub
	// DeadLetterReader lists events the firehose refused.
	DeadLetterReader *ingest.DeadLetters
	// ExportService queues and tracks asynchronous exports.
	ExportService *exports.Service
	// DashboardService stores and renders dashboards.
	DashboardService *dashboards.Service
	// ReportService defines scheduled reports, runs them now and lists their runs.
	ReportService *reports.Service
	// PrivacyService takes and reports erasure requests; RetentionService
	// reports and queues retention runs.
	PrivacyService   *privacy.Service
	RetentionService *privacy.Retention
	// InsightService asks, answers (in workers), lists and rates insights.
	InsightService *insights.Service
	// ResultCache keeps answers of metricQuery and eventTypeCounts per
	// tenant data version; nil computes every request.
	ResultCache *resultcache.Cache
	// AlertService defines alert rules, reads their history and backtests
	// them; AlertFeed pushes alert events to alertEvents subscribers.
	AlertService *alerts.Service
	AlertFeed    *alerts.Feed
	// Now is the clock; nil means time.Now. Tests inject a fixed one.
	Now func() time.Time
	// MinPollInterval bounds subscription polling; zero means one second.
	MinPollInterval time.Duration
}

// Config returns the gqlgen configuration for r, with the directives wired.
func (r *Resolver) Config() graph.Config {
	c := graph.Config{Resolvers: r}
	c.Directives.HasRole = HasRole
	return c
}

// HasRole implements @hasRole: the caller must hold role (or a higher one).
func HasRole(ctx context.Context, _ any, next graphql.Resolver, role model.Role) (any, error) {
	if _, err := auth.Require(ctx, auth.Role(strings.ToLower(string(role)))); err != nil {
		return nil, err
	}
	return next(ctx)
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func timeSpec(in model.TimeRange) timerange.Spec {
	s := timerange.Spec{From: in.From, To: in.To}
	if in.Last != nil {
		s.Last = *in.Last
	}
	if in.ToDate != nil {
		s.ToDate = timerange.ToDate(*in.ToDate)
	}
	return s
}

func toModelCounts(in []events.TypeCount) []*model.EventTypeCount {
	out := make([]*model.EventTypeCount, len(in))
	for i, c := range in {
		out[i] = &model.EventTypeCount{Type: c.Type, Count: c.Count}
	}
	return out
}

func toModelRoles(in []auth.Role) []model.Role {
	out := make([]model.Role, len(in))
	for i, r := range in {
		out[i] = model.Role(strings.ToUpper(string(r)))
	}
	return out
}
