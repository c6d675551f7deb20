package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"net"
	"net/http"
	"path/filepath"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/events"
	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/insights"
	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/config"
	"github.com/learnhub/analytics-service/platform/queue"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/privacy"
	"github.com/learnhub/analytics-service/reports"
)

// services are the domain services, shared by the serve and work roles.
type services struct {
	events     *events.Service
	registry   *metrics.Registry
	querier    *metrics.Querier
	adhoc      *adhoc.Service
	dashboards *dashboards.Service
	cohorts    *cohorts.Service
	journeys   *journeys.Service  // funnels, retention and paths
	results    *resultcache.Cache // read answers by data version (services_serving.go)
	monitors   *monitors.Service  // anomaly monitors, scores, forecasts (services_monitors.go)
	exports    *exports.Service
	privacy    *privacy.Service   // erasure requests (work consumes them)
	retention  *privacy.Retention // moves old months to the cold tier
	reports    *reports.Service   // scheduled reports (work runs and delivers them)
	insights   *insights.Service  // questions answered by the built-in analyst (work answers them)
	alerts     *alerts.Service    // alert rules (work evaluates them and notifies)
	jobs       *queue.Client
	// blobRoute serves signed downloads of the local blob store; nil with S3.
	blobRoute http.Handler
}

// openServices builds the domain services over the adapters.
func (a *app) openServices(ctx context.Context) (*services, error) {
	s := &services{events: events.NewService(a.db), jobs: queue.NewClient(a.kv.Client(), queue.ClientConfig{Tracing: a.tracing})}
	usage := &lateUsage{}
	s.registry = metrics.NewRegistry(a.db, metrics.Config{Locks: a.kv, Cache: a.kv, Usage: usage})
	// Ranges past the hot horizon are refused, not answered as empty.
	checkRange := privacy.RangeCheck(a.cfg.HotMonths, nil)
	s.querier = metrics.NewQuerier(a.db, s.registry, metrics.QuerierConfig{CheckRange: checkRange, Cluster: a.cfg.ClickHouseCluster})
	s.adhoc = adhoc.NewService(a.db, a.humanSQLPII(adhoc.Config{
		MaxResultBytes: a.cfg.AdhocMaxResultBytes, MaxMemoryUsage: a.cfg.AdhocMaxMemory,
		MaxConcurrent: a.cfg.AdhocMaxConcurrent, Logger: a.log,
	}))
	s.cohorts = cohorts.NewService(a.db, a.bus, cohorts.Config{Locks: a.kv, Queue: s.jobs, Metrics: s.registry})
	s.journeys = journeys.NewService(a.db, journeys.Config{})
	s.monitors = a.openMonitors(s)
	var err error
	if s.results, err = a.resultCache(); err != nil {
		return nil, err
	}
	pinned := &lateInsights{}
	dash := dashboards.NewService(a.db, s.registry, func() *metrics.Loader { return metrics.NewLoader(s.querier, metrics.LoaderConfig{}) },
		dashboards.Config{Locks: a.kv, Cache: a.kv, Cohorts: s.cohorts, Journeys: s.journeys, Monitors: s.monitors, ResultCache: s.results,
			Insights: pinned})
	s.dashboards, usage.finder = dash, metrics.UsageFinders{dash, s.cohorts}

	blobs, route, err := a.openBlobs()
	if err != nil {
		return nil, err
	}
	if a.wrapBlobs != nil {
		blobs = a.wrapBlobs(blobs)
	}
	if a.tracing != nil {
		blobs = blob.Traced(blobs, a.tracing.Tracer("analytics/blob"))
	}
	s.blobRoute = route
	s.exports, err = exports.NewService(exports.Deps{
		DB: a.db, Blobs: blobs, Jobs: s.jobs, Bus: a.bus, Metrics: s.querier, Locks: a.kv, Cohorts: s.cohorts, Journeys: s.journeys,
		SQL: adhoc.NewService(a.db, a.humanSQLPII(adhoc.Config{MaxLimit: exports.DefaultMaxRows, MaxMemoryUsage: a.cfg.AdhocMaxMemory})),
	}, exports.Config{CheckRange: checkRange})
	if err != nil {
		return nil, err
	}
	if s.reports, err = a.openReports(blobs, s); err != nil {
		return nil, err
	}
	s.insights = a.openInsights(s)
	pinned.svc = s.insights
	if s.alerts, err = a.openAlerts(s); err != nil {
		return nil, err
	}
	s.privacy = privacy.NewService(a.db, a.bus, blobs, privacy.Config{PIIKeys: a.cfg.PIIKeys, Logger: a.log, Cluster: a.cfg.ClickHouseCluster,
		Rollups: metrics.NewRollups(a.db).OnCluster(a.cfg.ClickHouseCluster)})
	s.retention = privacy.NewRetention(a.db, blobs, s.jobs, privacy.RetentionConfig{
		Spec: a.cfg.RetentionCron, HotMonths: a.cfg.HotMonths, ColdYears: a.cfg.ColdYears, Logger: a.log, Cluster: a.cfg.ClickHouseCluster})
	return s, nil
}

// openReports builds the report service: data through the dashboards
// render and the querier, files in the blob store, email through
// ANALYTICS_SMTP_ADDR when it is set (without it, email deliveries are
// refused when a report is defined), files kept for
// ANALYTICS_REPORT_RETENTION, webhooks to private addresses only with
// ANALYTICS_REPORT_WEBHOOK_ALLOW_PRIVATE.
func (a *app) openReports(blobs blob.Store, s *services) (*reports.Service, error) {
	deps := reports.Deps{DB: a.db, Blobs: blobs, Jobs: s.jobs, Bus: a.bus, Dashboards: s.dashboards, Metrics: s.querier}
	if c := a.cfg; c.SMTPAddr != "" {
		deps.Mailer = &reports.SMTPMailer{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUsername, Password: c.SMTPPassword}
	}
	return reports.NewService(deps, reports.Config{Retention: a.cfg.ReportRetention, AllowPrivateWebhooks: a.cfg.ReportWebhookAllowPrivate, Logger: a.log})
}

// lateUsage lets the registry ask dashboards (built after it, since they
// need the registry) what uses a metric.
type lateUsage struct{ finder metrics.UsageFinder }

func (l *lateUsage) MetricUsages(ctx context.Context, tenant, metricID, key string) ([]metrics.Usage, error) {
	if l.finder == nil {
		return nil, nil
	}
	return l.finder.MetricUsages(ctx, tenant, metricID, key)
}

// openBlobs picks S3 when a bucket is configured, else a local directory
// whose signed URLs analyticsd serves itself under /blobs/.
func (a *app) openBlobs() (blob.Store, http.Handler, error) {
	c := a.cfg
	if c.S3Bucket != "" {
		st, err := blob.NewS3(blob.S3Config{Bucket: c.S3Bucket, Prefix: c.S3Prefix, Endpoint: c.S3Endpoint, Region: c.S3Region,
			AccessKeyID: c.S3AccessKeyID, SecretAccessKey: c.S3SecretAccessKey, PathStyle: c.S3PathStyle})
		return st, nil, err
	}
	secret, err := a.blobSecret()
	if err != nil {
		return nil, nil, err
	}
	st, err := blob.NewLocal(blob.LocalConfig{Dir: filepath.Join(c.DataDir, "blobs"), BaseURL: a.publicURL() + "/blobs", Secret: secret})
	if err != nil {
		return nil, nil, err
	}
	return st, http.StripPrefix("/blobs", blob.LocalHandler(st, secret)), nil
}

// blobSecret signs local download URLs: configured, or derived from the
// HS256 secret (which every replica already shares).
func (a *app) blobSecret() ([]byte, error) {
	if a.cfg.BlobSecret != "" {
		return []byte(a.cfg.BlobSecret), nil
	}
	hs, err := hmacSecret(a.cfg)
	if err != nil {
		return nil, err
	}
	if hs == nil {
		return nil, &config.Error{Setting: "ANALYTICS_BLOB_SECRET", Msg: "required when only ANALYTICS_JWKS_URL is set and files are kept locally (or set ANALYTICS_S3_BUCKET)"}
	}
	m := hmac.New(sha256.New, hs)
	m.Write([]byte("analyticsd blob url signing v1"))
	return m.Sum(nil), nil
}

// publicURL is where clients reach this service.
func (a *app) publicURL() string {
	if a.cfg.PublicURL != "" {
		return a.cfg.PublicURL
	}
	_, port, err := net.SplitHostPort(a.cfg.HTTPAddr)
	if err != nil {
		port = "8080"
	}
	return "http://localhost:" + port
}
