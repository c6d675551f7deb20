package telemetry

import (
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Label caps of the operator metrics: a label whose values come from clients
// (operation names) or from data (tenants) would otherwise grow a series per
// value forever.
const (
	// DefaultMaxOperationNames is how many distinct GraphQL operation names
	// get their own series; later names count under OtherLabel.
	DefaultMaxOperationNames = 200
	// DefaultMaxTenantLabels is how many distinct tenants get their own
	// query-time series; later tenants count under OtherLabel.
	DefaultMaxTenantLabels = 100
	// maxOperationNameLen is the longest operation name kept as a label.
	maxOperationNameLen = 64
)

// Label values of folded series.
const (
	// OtherLabel collects the values over a cap (and operation names that
	// are not GraphQL names).
	OtherLabel = "other"
	// AnonymousOperation labels operations sent without a name.
	AnonymousOperation = "anonymous"
	// SystemTenant labels ClickHouse time spent with no tenant in the
	// context (migrations, background maintenance).
	SystemTenant = "_system"
	// OutcomeOK is the outcome of an operation without errors.
	OutcomeOK = "ok"
)

// Outcomes are the outcome label values of analytics_graphql_operations_total
// besides OutcomeOK: the extensions.code values the server sends. Any other
// code counts as OtherLabel, so a new code cannot add series unnoticed.
var Outcomes = []string{
	"BAD_USER_INPUT", "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "RATE_LIMITED",
	"UNAVAILABLE", "INTERNAL", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED",
	"PERSISTED_QUERY_NOT_FOUND", "TOO_MANY_SUBSCRIPTIONS", "BAD_REQUEST",
}

// Reading names process state that the operator gauges read at scrape time
// from whichever components registered a source for it (see Metrics.Read).
type Reading int

// The readings, each exported as its own metric (at zero until a source is
// registered).
const (
	// LiveSubscriptions is open GraphQL subscriptions (analytics_live_subscriptions).
	LiveSubscriptions Reading = iota
	// LiveRefreshers is live query refreshers running (analytics_live_refreshers).
	LiveRefreshers
	// AdhocRunning is ad-hoc SQL queries running (analytics_adhoc_queries_running).
	AdhocRunning
	// CacheHits is result-cache answers served without a compute
	// (analytics_resultcache_hits_total).
	CacheHits
	// CacheMisses is result-cache lookups that ran the query
	// (analytics_resultcache_misses_total).
	CacheMisses
	// ResponseHits is whole GraphQL responses served again
	// (analytics_responsecache_hits_total).
	ResponseHits
	// ResponseMisses is cacheable GraphQL reads that ran the executor
	// (analytics_responsecache_misses_total).
	ResponseMisses
	numReadings
)

// operatorMetrics are the instruments an operator alerts on; Metrics embeds
// them.
type operatorMetrics struct {
	// GraphQLOperations counts operations by name (folded, capped), type
	// and outcome (OutcomeOK or the first error's extensions.code).
	GraphQLOperations *prometheus.CounterVec
	// TenantQuerySeconds sums ClickHouse statement time by tenant (capped).
	TenantQuerySeconds *prometheus.CounterVec

	opNames  *labelCap
	tenants  *labelCap
	readMu   sync.RWMutex
	readings [numReadings][]func() float64
}

// labelCap admits the first max distinct values of a label and folds the
// rest into OtherLabel.
type labelCap struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
}

func newOperatorMetrics(reg *prometheus.Registry) *operatorMetrics {
	o := &operatorMetrics{
		GraphQLOperations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "analytics", Name: "graphql_operations_total",
			Help: "GraphQL operations by operation name (anonymous, or other beyond the cap), type and outcome (ok or the error code).",
		}, []string{"operation", "type", "outcome"}),
		TenantQuerySeconds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "analytics", Name: "tenant_query_seconds_total",
			Help: "ClickHouse statement seconds by tenant (other beyond the cap, _system without a tenant).",
		}, []string{"tenant"}),
		opNames: &labelCap{max: DefaultMaxOperationNames, seen: map[string]struct{}{}},
		tenants: &labelCap{max: DefaultMaxTenantLabels, seen: map[string]struct{}{}},
	}
	// Exported at zero from the start, so alerts on rate() and absent()
	// work before the first operation.
	for _, outcome := range append([]string{OutcomeOK}, Outcomes...) {
		o.GraphQLOperations.WithLabelValues(AnonymousOperation, "query", outcome)
	}
	o.TenantQuerySeconds.WithLabelValues(SystemTenant)
	reg.MustRegister(o.GraphQLOperations, o.TenantQuerySeconds)

	gauge := func(r Reading, name, help string) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "analytics", Name: name, Help: help}, func() float64 { return o.read(r) })
	}
	counter := func(r Reading, name, help string) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "analytics", Name: name, Help: help}, func() float64 { return o.read(r) })
	}
	reg.MustRegister(
		gauge(LiveSubscriptions, "live_subscriptions", "GraphQL subscriptions open on this replica."),
		gauge(LiveRefreshers, "live_refreshers", "Live query refreshers running on this replica (one per distinct live query)."),
		gauge(AdhocRunning, "adhoc_queries_running", "Ad-hoc SQL queries running on this replica."),
		counter(CacheHits, "resultcache_hits_total", "Result-cache lookups answered without running the query (stored or shared in flight)."),
		counter(CacheMisses, "resultcache_misses_total", "Result-cache lookups that ran the query."),
		counter(ResponseHits, "responsecache_hits_total", "Cacheable GraphQL reads answered with a kept response (stored or shared in flight)."),
		counter(ResponseMisses, "responsecache_misses_total", "Cacheable GraphQL reads that ran the executor."),
	)
	return o
}

// Read adds a source for r; a reading with several sources (e.g. one ad-hoc
// service per role) exports their sum. Sources are called at every scrape
// and must be cheap and safe for concurrent use.
func (o *operatorMetrics) Read(r Reading, f func() float64) {
	o.readMu.Lock()
	defer o.readMu.Unlock()
	o.readings[r] = append(o.readings[r], f)
}

// ObserveOperation counts one GraphQL operation. name is folded: "" is
// AnonymousOperation, a name that is not a GraphQL name or comes after
// DefaultMaxOperationNames others is OtherLabel; an outcome not in Outcomes
// (nor OutcomeOK) is OtherLabel.
func (o *operatorMetrics) ObserveOperation(name, typ, outcome string) {
	switch {
	case name == "":
		name = AnonymousOperation
	case !graphQLName(name):
		name = OtherLabel
	default:
		name = o.opNames.admit(name)
	}
	if outcome != OutcomeOK && !slices.Contains(Outcomes, outcome) {
		outcome = OtherLabel
	}
	o.GraphQLOperations.WithLabelValues(name, typ, outcome).Inc()
}

// ObserveTenantQuery adds d to tenant's ClickHouse time ("" is
// SystemTenant; tenants after DefaultMaxTenantLabels others are OtherLabel).
func (o *operatorMetrics) ObserveTenantQuery(tenant string, d time.Duration) {
	if tenant == "" {
		tenant = SystemTenant
	} else {
		tenant = o.tenants.admit(tenant)
	}
	o.TenantQuerySeconds.WithLabelValues(tenant).Add(d.Seconds())
}

func (o *operatorMetrics) read(r Reading) float64 {
	o.readMu.RLock()
	defer o.readMu.RUnlock()
	sum := 0.0
	for _, f := range o.readings[r] {
		sum += f()
	}
	return sum
}

func (c *labelCap) admit(v string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[v]; ok {
		return v
	}
	if len(c.seen) >= c.max {
		return OtherLabel
	}
	c.seen[v] = struct{}{}
	return v
}

// graphQLName reports whether s is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*)
// short enough for a label.
func graphQLName(s string) bool {
	if len(s) == 0 || len(s) > maxOperationNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
