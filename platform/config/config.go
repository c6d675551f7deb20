// Package config reads analyticsd's settings from flags and environment
// variables (a flag wins over its variable) and validates them at startup,
// naming the bad setting and what it expects. Every setting is listed in
// Settings so the README table and the code cannot drift apart (a test
// checks the README mentions each variable).
package config

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Defaults for settings whose zero value means "use the default".
const (
	DefaultHTTPAddr          = ":8080"
	DefaultDataDir           = "./data"
	DefaultDatabase          = "analytics"
	DefaultQueryTimeout      = 60 * time.Second
	DefaultLogLevel          = "info"
	DefaultWorkerConcurrency = 4
	DefaultCompactCron       = "30 3 * * *"
	DefaultMergeCurrentCron  = "*/10 * * * *"
	DefaultAlertsCron        = "*/5 * * * *"
	DefaultMergeMaxParts     = 2
	DefaultMaxComplexity     = 1000
	DefaultMaxDepth          = 10
	DefaultMaxBodyBytes      = 1 << 20 // a /graphql request body
	DefaultMaxListLength     = 1000    // elements of one list argument
	DefaultMaxStringBytes    = 64 << 10
	DefaultWSSubscriptions   = 20  // subscriptions on one WebSocket
	DefaultTenantSubs        = 100 // subscriptions of one tenant, per replica
	DefaultShutdownTimeout   = 20 * time.Second
	DefaultResultCacheSize   = 4096             // answers kept per replica (results cache)
	DefaultResultCacheMaxAge = 10 * time.Minute // longest an answer is served without a change notice
	DefaultTokenCacheSize    = 10_000           // verified tokens kept per replica
	DefaultRetentionCron     = "45 3 * * *"
	DefaultHotMonths         = 13
	DefaultColdYears         = 5
	DefaultSMTPFrom          = "analytics@localhost"
	DefaultReportRetention   = 90 * 24 * time.Hour
	// Ad-hoc SQL (eventsQuery) caps; adhoc.Config documents them.
	DefaultAdhocMaxResultBytes = 16 << 20
	DefaultAdhocMaxMemory      = 1 << 30
	DefaultAdhocMaxConcurrent  = 4
)

// Config is the validated configuration of one analyticsd process.
type Config struct {
	HTTPAddr          string        // --http-addr, ANALYTICS_HTTP_ADDR; default ":8080"
	DataDir           string        // --data-dir, ANALYTICS_DATA_DIR; default "./data"
	ClickHouseURL     string        // ANALYTICS_CLICKHOUSE_URL; empty = embedded engine
	ClickHouseCluster string        // ANALYTICS_CLICKHOUSE_CLUSTER; empty = single node
	Database          string        // ANALYTICS_CLICKHOUSE_DATABASE; default "analytics" (embedded; a URL's path wins)
	ChDBLib           string        // ANALYTICS_CHDB_LIB; empty = where `make chdb` puts it
	NATSURL           string        // ANALYTICS_NATS_URL; empty = embedded NATS server
	NATSReplicas      int           // ANALYTICS_NATS_REPLICAS; 0 = automatic (3 on a cluster, 1 otherwise)
	KafkaBrokers      []string      // ANALYTICS_KAFKA_BROKERS; empty = no Kafka (JetStream feeds ClickHouse directly)
	SeedDemo          bool          // ANALYTICS_SEED_DEMO; default true in embedded mode (demo data on first start)
	RedisURL          string        // ANALYTICS_REDIS_URL; empty = embedded Redis protocol server
	JWTSecret         string        // ANALYTICS_JWT_SECRET; empty = a dev secret generated under the data dir
	JWKSURL           string        // ANALYTICS_JWKS_URL; empty = no RS256/ES256 verification
	JWTIssuer         string        // ANALYTICS_JWT_ISSUER; empty = not checked
	JWTAudience       string        // ANALYTICS_JWT_AUDIENCE; empty = not checked
	JWTClaims         JWTClaimNames // ANALYTICS_JWT_{TENANT,ROLES}_CLAIM, _CLAIMS_NAMESPACE; zero = top-level "tenant", "roles"
	QueryTimeout      time.Duration // ANALYTICS_QUERY_TIMEOUT; default 60s
	LogLevel          string        // ANALYTICS_LOG_LEVEL; default "info"
	WorkerConcurrency int           // ANALYTICS_WORKER_CONCURRENCY; default 4
	CompactCron       string        // ANALYTICS_COMPACT_CRON; default "30 3 * * *" (UTC)
	MergeCurrentCron  string        // ANALYTICS_MERGE_CURRENT_CRON; default "*/10 * * * *" (UTC)
	AlertsCron        string        // ANALYTICS_ALERTS_CRON; default "*/5 * * * *" (UTC)
	MergeMaxParts     int           // ANALYTICS_MERGE_MAX_PARTS; default 2 parts per current month
	MaxComplexity     int           // ANALYTICS_GRAPHQL_MAX_COMPLEXITY; default 1000
	MaxDepth          int           // ANALYTICS_GRAPHQL_MAX_DEPTH; default 10
	TenantRate        int           // ANALYTICS_TENANT_RATE; default 50 operations/s per tenant per replica
	TenantBurst       int           // ANALYTICS_TENANT_BURST; default 100
	TenantConcurrency int           // ANALYTICS_TENANT_CONCURRENCY; default 16 in flight per tenant per replica
	MaxBodyBytes      int           // ANALYTICS_GRAPHQL_MAX_BODY_BYTES; default 1 MiB (413 beyond)
	MaxListLength     int           // ANALYTICS_GRAPHQL_MAX_LIST_LENGTH; default 1000 elements per list argument
	MaxStringBytes    int           // ANALYTICS_GRAPHQL_MAX_STRING_BYTES; default 64 KiB per string argument
	WSSubscriptions   int           // ANALYTICS_WS_MAX_SUBSCRIPTIONS; default 20 per WebSocket connection
	TenantSubs        int           // ANALYTICS_TENANT_MAX_SUBSCRIPTIONS; default 100 per tenant per replica
	ShutdownTimeout   time.Duration // ANALYTICS_SHUTDOWN_TIMEOUT; default 20s
	// ResultCacheSize, ResultCacheMaxAge and TokenCacheSize size the serving
	// caches (ANALYTICS_RESULT_CACHE_SIZE, default 4096 answers;
	// ANALYTICS_RESULT_CACHE_MAX_AGE, default 10m; ANALYTICS_TOKEN_CACHE_SIZE,
	// default 10000 tokens); 0 turns a cache off.
	ResultCacheSize   int
	ResultCacheMaxAge time.Duration
	TokenCacheSize    int
	PublicURL         string        // ANALYTICS_PUBLIC_URL; empty = http://localhost:<port> (base of signed download URLs)
	BlobSecret        string        // ANALYTICS_BLOB_SECRET; empty = derived from the HS256 secret
	S3Bucket          string        // ANALYTICS_S3_BUCKET; empty = blobs in <data-dir>/blobs
	S3Endpoint        string        // ANALYTICS_S3_ENDPOINT; empty = AWS
	S3Region          string        // ANALYTICS_S3_REGION; empty = us-east-1
	S3Prefix          string        // ANALYTICS_S3_PREFIX; empty = bucket root
	S3AccessKeyID     string        // ANALYTICS_S3_ACCESS_KEY_ID
	S3SecretAccessKey string        // ANALYTICS_S3_SECRET_ACCESS_KEY
	S3PathStyle       bool          // ANALYTICS_S3_PATH_STYLE; default false (virtual-host style)
	RetentionCron     string        // ANALYTICS_RETENTION_CRON; default "45 3 * * *" (UTC)
	HotMonths         int           // ANALYTICS_HOT_MONTHS; default 13 (the current month and 12 before it)
	ColdYears         int           // ANALYTICS_COLD_YEARS; default 5
	PIIKeys           []string      // ANALYTICS_PII_KEYS; empty = privacy.DefaultPIIKeys()
	SMTPAddr          string        // ANALYTICS_SMTP_ADDR; empty = email deliveries of reports refused
	SMTPFrom          string        // ANALYTICS_SMTP_FROM; default "analytics@localhost"
	SMTPUsername      string        // ANALYTICS_SMTP_USERNAME; empty = no SMTP authentication
	SMTPPassword      string        // ANALYTICS_SMTP_PASSWORD
	ReportRetention   time.Duration // ANALYTICS_REPORT_RETENTION; default 90 days ("90d", or a Go duration)
	AIURL             string        // ANALYTICS_AI_URL; empty = the AI gateway is off (askInsight engine GATEWAY is UNAVAILABLE)
	AIModel           string        // ANALYTICS_AI_MODEL; default "gpt-4o-mini"
	AIAPIKey          string        // ANALYTICS_AI_API_KEY
	AITimeout         time.Duration // ANALYTICS_AI_TIMEOUT; default 60s per model call
	AIDailyTokens     int           // ANALYTICS_AI_DAILY_TOKENS; default 200000 per tenant and UTC day
	// ReportWebhookAllowPrivate is ANALYTICS_REPORT_WEBHOOK_ALLOW_PRIVATE;
	// default false (webhooks to loopback, private and link-local
	// addresses are refused; true is for local development only).
	ReportWebhookAllowPrivate bool
	// AdhocMaxResultBytes is ANALYTICS_ADHOC_MAX_RESULT_BYTES; default
	// 16 MiB: a larger eventsQuery result is refused (RESULT_TOO_LARGE).
	AdhocMaxResultBytes int64
	// AdhocMaxMemory is ANALYTICS_ADHOC_MAX_MEMORY; default 1 GiB: the
	// engine's max_memory_usage of one ad-hoc query.
	AdhocMaxMemory int64
	// AdhocMaxConcurrent is ANALYTICS_ADHOC_MAX_CONCURRENT; default 4:
	// ad-hoc queries running at once in the process, all tenants together.
	AdhocMaxConcurrent int
}

// Setting documents one configuration knob.
type Setting struct {
	Env     string
	Flag    string // empty when there is no flag
	Default string
	Doc     string
}

// Settings lists every knob, in README order.
var Settings = []Setting{
	{"ANALYTICS_HTTP_ADDR", "http-addr", DefaultHTTPAddr, "address the HTTP server listens on"},
	{"ANALYTICS_CONFIG_FILE", "config", "(none)", "KEY=VALUE file of these settings; the environment wins over it, and any setting X may be given as X_FILE=path (secrets)"},
	{"ANALYTICS_DATA_DIR", "data-dir", DefaultDataDir, "where embedded engines keep their data and the dev JWT secret"},
	{"ANALYTICS_CLICKHOUSE_URL", "", "(embedded chDB)", "ClickHouse server DSN, e.g. clickhouse://user:pass@host:9000/analytics?secure=true"},
	{"ANALYTICS_CLICKHOUSE_CLUSTER", "", "(none)", "cluster name: DDL runs ON CLUSTER with Replicated and Distributed tables"},
	{"ANALYTICS_CLICKHOUSE_DATABASE", "", DefaultDatabase, "database of the embedded engine (a server URL's path names it there)"},
	{"ANALYTICS_CHDB_LIB", "", "~/.cache/analyticsd/chdb/…/libchdb.so", "path to libchdb.so for the embedded engine (`make chdb` fetches it)"},
	{"ANALYTICS_NATS_URL", "", "(embedded NATS)", "NATS server URL(s), comma separated"},
	{"ANALYTICS_NATS_REPLICAS", "", "0 (automatic)", "replicas of every JetStream stream and consumer; 0 = 3 on a NATS cluster of 3+ servers, 1 otherwise; checked against the cluster at start"},
	{"ANALYTICS_KAFKA_BROKERS", "", "(none)", "Kafka brokers host:port, comma separated: NATS → Kafka → ClickHouse"},
	{"ANALYTICS_SEED_DEMO", "", "true (embedded)", "`all` publishes demo events through the firehose on first start"},
	{"ANALYTICS_REDIS_URL", "", "(embedded)", "Redis URL, redis:// or rediss://"},
	{"ANALYTICS_JWT_SECRET", "", "(generated dev secret)", "HS256 shared secret (at least 32 bytes)"},
	{"ANALYTICS_JWKS_URL", "", "(none)", "JWKS URL for RS256/ES256 tokens"},
	{"ANALYTICS_JWT_ISSUER", "", "(not checked)", "required `iss` claim"},
	{"ANALYTICS_JWT_AUDIENCE", "", "(not checked)", "required `aud` claim"},
	{"ANALYTICS_JWT_TENANT_CLAIM", "", "tenant", "claim holding the tenant id (inside the namespace when one is set)"},
	{"ANALYTICS_JWT_ROLES_CLAIM", "", "roles", "claim holding the roles: an array of strings or one string"},
	{"ANALYTICS_JWT_CLAIMS_NAMESPACE", "", "(none)", "top-level claim whose object holds the tenant and roles claims, e.g. https://hasura.io/jwt/claims"},
	{"ANALYTICS_QUERY_TIMEOUT", "", DefaultQueryTimeout.String(), "max_execution_time of every ClickHouse query"},
	{"ANALYTICS_LOG_LEVEL", "", DefaultLogLevel, "debug, info, warn or error"},
	{"ANALYTICS_WORKER_CONCURRENCY", "", strconv.Itoa(DefaultWorkerConcurrency), "Asynq worker goroutines"},
	{"ANALYTICS_COMPACT_CRON", "", DefaultCompactCron, "when closed event partitions are compacted (cron, UTC)"},
	{"ANALYTICS_MERGE_CURRENT_CRON", "", DefaultMergeCurrentCron, "when the current month of events and the daily rollups is merged (cron, UTC)"},
	{"ANALYTICS_ALERTS_CRON", "", DefaultAlertsCron, "when alert rules are evaluated on their latest complete bucket (cron, UTC)"},
	{"ANALYTICS_MERGE_MAX_PARTS", "", strconv.Itoa(DefaultMergeMaxParts), "active parts a table's current month may have before that merge runs"},
	{"ANALYTICS_GRAPHQL_MAX_COMPLEXITY", "", strconv.Itoa(DefaultMaxComplexity), "maximum complexity of one GraphQL operation"},
	{"ANALYTICS_GRAPHQL_MAX_DEPTH", "", strconv.Itoa(DefaultMaxDepth), "maximum nesting depth of one GraphQL operation"},
	{"ANALYTICS_TENANT_RATE", "", "50", "GraphQL operations per second per tenant, per replica (RATE_LIMITED beyond)"},
	{"ANALYTICS_TENANT_BURST", "", "100", "operations a tenant may send at once after idling"},
	{"ANALYTICS_TENANT_CONCURRENCY", "", "16", "GraphQL operations of one tenant in flight at once, per replica"},
	{"ANALYTICS_GRAPHQL_MAX_BODY_BYTES", "", strconv.Itoa(DefaultMaxBodyBytes), "largest /graphql request body in bytes (413 beyond)"},
	{"ANALYTICS_GRAPHQL_MAX_LIST_LENGTH", "", strconv.Itoa(DefaultMaxListLength), "most elements of one list argument (BAD_USER_INPUT beyond)"},
	{"ANALYTICS_GRAPHQL_MAX_STRING_BYTES", "", strconv.Itoa(DefaultMaxStringBytes), "longest string argument in bytes (BAD_USER_INPUT beyond)"},
	{"ANALYTICS_WS_MAX_SUBSCRIPTIONS", "", strconv.Itoa(DefaultWSSubscriptions), "subscriptions open at once on one WebSocket connection"},
	{"ANALYTICS_TENANT_MAX_SUBSCRIPTIONS", "", strconv.Itoa(DefaultTenantSubs), "subscriptions of one tenant open at once, per replica"},
	{"ANALYTICS_SHUTDOWN_TIMEOUT", "", DefaultShutdownTimeout.String(), "grace period for in-flight requests and jobs on SIGTERM"},
	{"ANALYTICS_RESULT_CACHE_SIZE", "", strconv.Itoa(DefaultResultCacheSize), "metricQuery/eventTypeCounts/journey answers and dashboard widgets kept per replica, per tenant data version (0 = off)"},
	{"ANALYTICS_RESULT_CACHE_MAX_AGE", "", DefaultResultCacheMaxAge.String(), "longest a cached answer is served without an ingest notice (changes no notice reports)"},
	{"ANALYTICS_TOKEN_CACHE_SIZE", "", strconv.Itoa(DefaultTokenCacheSize), "verified bearer tokens kept until their expiry, per replica (0 = verify every request)"},
	{"ANALYTICS_PUBLIC_URL", "", "http://localhost:<port>", "public base URL of this service (signed export download links)"},
	{"ANALYTICS_BLOB_SECRET", "", "(derived from the HS256 secret)", "secret signing download URLs of the local blob store (at least 32 bytes)"},
	{"ANALYTICS_S3_BUCKET", "", "(local directory)", "S3 bucket for exports; unset keeps files under <data-dir>/blobs"},
	{"ANALYTICS_S3_ENDPOINT", "", "(AWS)", "S3-compatible endpoint URL, e.g. http://minio:9000"},
	{"ANALYTICS_S3_REGION", "", "us-east-1", "S3 region"},
	{"ANALYTICS_S3_PREFIX", "", "(none)", "key prefix inside the bucket"},
	{"ANALYTICS_S3_ACCESS_KEY_ID", "", "", "S3 access key id"},
	{"ANALYTICS_S3_SECRET_ACCESS_KEY", "", "", "S3 secret access key"},
	{"ANALYTICS_S3_PATH_STYLE", "", "false", "path-style S3 URLs (MinIO and most S3-compatible stores)"},
	{"ANALYTICS_RETENTION_CRON", "", DefaultRetentionCron, "when months past the hot horizon move to the cold tier (cron, UTC)"},
	{"ANALYTICS_HOT_MONTHS", "", strconv.Itoa(DefaultHotMonths), "months of events ClickHouse keeps, the current one included; older ranges are refused"},
	{"ANALYTICS_COLD_YEARS", "", strconv.Itoa(DefaultColdYears), "years a month stays in the cold tier (Parquet in the blob store)"},
	{"ANALYTICS_PII_KEYS", "", "email, name, first_name, last_name, phone, ip, ip_address, address, user_agent", "event property keys removed from an erased user's cold rows, comma separated"},
	{"ANALYTICS_SMTP_ADDR", "", "(none)", "SMTP server host:port for report emails (STARTTLS when offered); unset refuses email deliveries"},
	{"ANALYTICS_SMTP_FROM", "", DefaultSMTPFrom, "sender address of report emails"},
	{"ANALYTICS_SMTP_USERNAME", "", "(no auth)", "SMTP PLAIN username (sent only over TLS or to localhost)"},
	{"ANALYTICS_SMTP_PASSWORD", "", "", "SMTP PLAIN password"},
	{"ANALYTICS_REPORT_RETENTION", "", "90d", "how long report files are kept; an hourly janitor deletes older ones (days as 30d, or a Go duration)"},
	{"ANALYTICS_REPORT_WEBHOOK_ALLOW_PRIVATE", "", "false", "let report webhooks reach loopback, private and link-local addresses (local development only)"},
	{"ANALYTICS_ADHOC_MAX_RESULT_BYTES", "", "16MiB", "largest eventsQuery result (bytes, or with KiB/MiB/GiB); larger ones are refused with reason RESULT_TOO_LARGE"},
	{"ANALYTICS_ADHOC_MAX_MEMORY", "", "1GiB", "engine memory one ad-hoc query may use (max_memory_usage)"},
	{"ANALYTICS_ADHOC_MAX_CONCURRENT", "", strconv.Itoa(DefaultAdhocMaxConcurrent), "ad-hoc queries running at once in the process, all tenants together (RATE_LIMITED beyond)"},
}

// Error is a configuration error; main exits with code 2 on it.
type Error struct {
	Setting string
	Msg     string
}

func (e *Error) Error() string { return e.Setting + ": " + e.Msg }

// Load parses args (without the program name and command) over the
// environment given by getenv.
func Load(args []string, getenv func(string) string) (Config, error) {
	args, getenv, err := sources(args, getenv)
	if err != nil {
		return Config{}, err
	}
	env := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("analyticsd", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	httpAddr := fs.String("http-addr", env("ANALYTICS_HTTP_ADDR", DefaultHTTPAddr), "HTTP listen address")
	dataDir := fs.String("data-dir", env("ANALYTICS_DATA_DIR", DefaultDataDir), "data directory")
	if err := fs.Parse(args); err != nil {
		return Config{}, &Error{"flags", err.Error() + "; known flags: --http-addr, --data-dir"}
	}
	if fs.NArg() > 0 {
		return Config{}, &Error{"flags", fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	c := Config{
		HTTPAddr:          *httpAddr,
		DataDir:           *dataDir,
		ClickHouseURL:     env("ANALYTICS_CLICKHOUSE_URL", ""),
		ClickHouseCluster: env("ANALYTICS_CLICKHOUSE_CLUSTER", ""),
		Database:          env("ANALYTICS_CLICKHOUSE_DATABASE", DefaultDatabase),
		ChDBLib:           env("ANALYTICS_CHDB_LIB", ""),
		NATSURL:           env("ANALYTICS_NATS_URL", ""),
		RedisURL:          env("ANALYTICS_REDIS_URL", ""),
		JWTSecret:         env("ANALYTICS_JWT_SECRET", ""),
		JWKSURL:           env("ANALYTICS_JWKS_URL", ""),
		JWTIssuer:         env("ANALYTICS_JWT_ISSUER", ""),
		JWTAudience:       env("ANALYTICS_JWT_AUDIENCE", ""),
		JWTClaims:         jwtClaimNames(env),
		LogLevel:          env("ANALYTICS_LOG_LEVEL", DefaultLogLevel),
		CompactCron:       env("ANALYTICS_COMPACT_CRON", DefaultCompactCron),
		MergeCurrentCron:  env("ANALYTICS_MERGE_CURRENT_CRON", DefaultMergeCurrentCron),
		AlertsCron:        env("ANALYTICS_ALERTS_CRON", DefaultAlertsCron),
		PublicURL:         strings.TrimSuffix(env("ANALYTICS_PUBLIC_URL", ""), "/"),
		KafkaBrokers:      splitList(env("ANALYTICS_KAFKA_BROKERS", "")),
		BlobSecret:        env("ANALYTICS_BLOB_SECRET", ""),
		S3Bucket:          env("ANALYTICS_S3_BUCKET", ""),
		S3Endpoint:        env("ANALYTICS_S3_ENDPOINT", ""),
		S3Region:          env("ANALYTICS_S3_REGION", ""),
		S3Prefix:          env("ANALYTICS_S3_PREFIX", ""),
		S3AccessKeyID:     env("ANALYTICS_S3_ACCESS_KEY_ID", ""),
		S3SecretAccessKey: env("ANALYTICS_S3_SECRET_ACCESS_KEY", ""),
		S3PathStyle:       env("ANALYTICS_S3_PATH_STYLE", "") == "true",
		RetentionCron:     env("ANALYTICS_RETENTION_CRON", DefaultRetentionCron),
		PIIKeys:           splitList(env("ANALYTICS_PII_KEYS", "")),
		SMTPAddr:          env("ANALYTICS_SMTP_ADDR", ""),
		SMTPFrom:          env("ANALYTICS_SMTP_FROM", DefaultSMTPFrom),
		SMTPUsername:      env("ANALYTICS_SMTP_USERNAME", ""),
		SMTPPassword:      env("ANALYTICS_SMTP_PASSWORD", ""),
		AIURL:             env("ANALYTICS_AI_URL", ""),
		AIModel:           env("ANALYTICS_AI_MODEL", "gpt-4o-mini"),
		AIAPIKey:          env("ANALYTICS_AI_API_KEY", ""),
	}
	c.SeedDemo = env("ANALYTICS_SEED_DEMO", strconv.FormatBool(c.Embedded())) == "true"
	if c.QueryTimeout, err = duration(env, "ANALYTICS_QUERY_TIMEOUT", DefaultQueryTimeout); err != nil {
		return Config{}, err
	}
	if c.ShutdownTimeout, err = duration(env, "ANALYTICS_SHUTDOWN_TIMEOUT", DefaultShutdownTimeout); err != nil {
		return Config{}, err
	}
	if c.WorkerConcurrency, err = positiveInt(env, "ANALYTICS_WORKER_CONCURRENCY", DefaultWorkerConcurrency); err != nil {
		return Config{}, err
	}
	if c.MergeMaxParts, err = positiveInt(env, "ANALYTICS_MERGE_MAX_PARTS", DefaultMergeMaxParts); err != nil {
		return Config{}, err
	}
	if c.MaxComplexity, err = positiveInt(env, "ANALYTICS_GRAPHQL_MAX_COMPLEXITY", DefaultMaxComplexity); err != nil {
		return Config{}, err
	}
	if c.MaxDepth, err = positiveInt(env, "ANALYTICS_GRAPHQL_MAX_DEPTH", DefaultMaxDepth); err != nil {
		return Config{}, err
	}
	if c.TenantRate, err = positiveInt(env, "ANALYTICS_TENANT_RATE", 50); err != nil {
		return Config{}, err
	}
	if c.TenantBurst, err = positiveInt(env, "ANALYTICS_TENANT_BURST", 100); err != nil {
		return Config{}, err
	}
	if c.TenantConcurrency, err = positiveInt(env, "ANALYTICS_TENANT_CONCURRENCY", 16); err != nil {
		return Config{}, err
	}
	for _, n := range []struct {
		dst *int
		key string
		def int
	}{
		{&c.MaxBodyBytes, "ANALYTICS_GRAPHQL_MAX_BODY_BYTES", DefaultMaxBodyBytes},
		{&c.MaxListLength, "ANALYTICS_GRAPHQL_MAX_LIST_LENGTH", DefaultMaxListLength},
		{&c.MaxStringBytes, "ANALYTICS_GRAPHQL_MAX_STRING_BYTES", DefaultMaxStringBytes},
		{&c.WSSubscriptions, "ANALYTICS_WS_MAX_SUBSCRIPTIONS", DefaultWSSubscriptions},
		{&c.TenantSubs, "ANALYTICS_TENANT_MAX_SUBSCRIPTIONS", DefaultTenantSubs},
	} {
		if *n.dst, err = positiveInt(env, n.key, n.def); err != nil {
			return Config{}, err
		}
	}
	if c.NATSReplicas, err = nonNegativeInt(env, "ANALYTICS_NATS_REPLICAS", 0); err != nil {
		return Config{}, err
	}
	if err := c.loadServingCaches(env); err != nil {
		return Config{}, err
	}
	if c.AITimeout, err = duration(env, "ANALYTICS_AI_TIMEOUT", 60*time.Second); err != nil {
		return Config{}, err
	}
	if c.AIDailyTokens, err = positiveInt(env, "ANALYTICS_AI_DAILY_TOKENS", 200_000); err != nil {
		return Config{}, err
	}
	if c.HotMonths, err = positiveInt(env, "ANALYTICS_HOT_MONTHS", DefaultHotMonths); err != nil {
		return Config{}, err
	}
	if c.ColdYears, err = positiveInt(env, "ANALYTICS_COLD_YEARS", DefaultColdYears); err != nil {
		return Config{}, err
	}
	if c.ReportRetention, err = days(env, "ANALYTICS_REPORT_RETENTION", DefaultReportRetention); err != nil {
		return Config{}, err
	}
	if c.ReportWebhookAllowPrivate, err = boolean(env, "ANALYTICS_REPORT_WEBHOOK_ALLOW_PRIVATE"); err != nil {
		return Config{}, err
	}
	if c.AdhocMaxResultBytes, err = byteSize(env, "ANALYTICS_ADHOC_MAX_RESULT_BYTES", DefaultAdhocMaxResultBytes); err != nil {
		return Config{}, err
	}
	if c.AdhocMaxMemory, err = byteSize(env, "ANALYTICS_ADHOC_MAX_MEMORY", DefaultAdhocMaxMemory); err != nil {
		return Config{}, err
	}
	if c.AdhocMaxConcurrent, err = positiveInt(env, "ANALYTICS_ADHOC_MAX_CONCURRENT", DefaultAdhocMaxConcurrent); err != nil {
		return Config{}, err
	}
	return c, c.validate()
}

// Embedded reports whether ClickHouse runs in-process.
func (c Config) Embedded() bool { return c.ClickHouseURL == "" }

func (c Config) validate() error {
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return &Error{"ANALYTICS_HTTP_ADDR (--http-addr)", fmt.Sprintf("%q is not host:port; use e.g. :8080 or 127.0.0.1:8080", c.HTTPAddr)}
	}
	if c.DataDir == "" {
		return &Error{"ANALYTICS_DATA_DIR (--data-dir)", "must not be empty"}
	}
	if c.ClickHouseURL != "" {
		u, err := url.Parse(c.ClickHouseURL)
		if err != nil || (u.Scheme != "clickhouse" && u.Scheme != "tcp") || u.Host == "" {
			return &Error{"ANALYTICS_CLICKHOUSE_URL", "want clickhouse://[user[:password]@]host:9000[/database][?secure=true]"}
		}
	}
	if c.ClickHouseCluster != "" && c.ClickHouseURL == "" {
		return &Error{"ANALYTICS_CLICKHOUSE_CLUSTER", "needs ANALYTICS_CLICKHOUSE_URL: the embedded engine is a single node"}
	}
	if !validName(c.Database) {
		return &Error{"ANALYTICS_CLICKHOUSE_DATABASE", fmt.Sprintf("%q: use letters, digits and _ only", c.Database)}
	}
	for _, s := range []struct{ name, val string }{{"ANALYTICS_NATS_URL", c.NATSURL}, {"ANALYTICS_REDIS_URL", c.RedisURL}, {"ANALYTICS_JWKS_URL", c.JWKSURL}} {
		if s.val == "" {
			continue
		}
		for _, one := range strings.Split(s.val, ",") {
			if u, err := url.Parse(strings.TrimSpace(one)); err != nil || u.Scheme == "" || u.Host == "" {
				return &Error{s.name, fmt.Sprintf("%q is not a URL with a scheme and host", one)}
			}
		}
	}
	for _, b := range c.KafkaBrokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return &Error{"ANALYTICS_KAFKA_BROKERS", fmt.Sprintf("%q is not host:port", b)}
		}
	}
	if c.BlobSecret != "" && len(c.BlobSecret) < 32 {
		return &Error{"ANALYTICS_BLOB_SECRET", "must be at least 32 bytes; generate one with `openssl rand -hex 32`"}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{"ANALYTICS_PUBLIC_URL", fmt.Sprintf("%q: want http(s)://host[:port]", c.PublicURL)}
		}
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		return &Error{"ANALYTICS_JWT_SECRET", "must be at least 32 bytes; generate one with `openssl rand -hex 32`"}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return &Error{"ANALYTICS_LOG_LEVEL", fmt.Sprintf("%q: use debug, info, warn or error", c.LogLevel)}
	}
	for _, s := range []struct{ name, val string }{{"ANALYTICS_COMPACT_CRON", c.CompactCron}, {"ANALYTICS_MERGE_CURRENT_CRON", c.MergeCurrentCron}, {"ANALYTICS_ALERTS_CRON", c.AlertsCron}, {"ANALYTICS_RETENTION_CRON", c.RetentionCron}} {
		if _, err := cron.ParseStandard(s.val); err != nil {
			return &Error{s.name, fmt.Sprintf("%q is not a 5-field cron expression: %v", s.val, err)}
		}
	}
	if c.ColdYears*12 < c.HotMonths {
		return &Error{"ANALYTICS_COLD_YEARS", fmt.Sprintf("%d years is shorter than the %d-month hot tier (ANALYTICS_HOT_MONTHS): months would expire before they reach the cold tier", c.ColdYears, c.HotMonths)}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func duration(env func(k, def string) string, key string, def time.Duration) (time.Duration, error) {
	raw := env(key, "")
	if raw == "" {
		return def, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		return 0, &Error{key, fmt.Sprintf("%q is not a positive duration; use e.g. 30s or 2m", raw)}
	}
	return d, nil
}

// days reads a positive duration given in days ("90d") or as a Go
// duration ("2160h").
func days(env func(k, def string) string, key string, def time.Duration) (time.Duration, error) {
	raw := env(key, "")
	if n, ok := strings.CutSuffix(raw, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d <= 0 {
			return 0, &Error{key, fmt.Sprintf("%q is not a positive number of days; use e.g. 90d", raw)}
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	return duration(env, key, def)
}

// boolean reads true or false (default false).
func boolean(env func(k, def string) string, key string) (bool, error) {
	raw := env(key, "false")
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return false, &Error{key, fmt.Sprintf("%q: use true or false", raw)}
	}
	return b, nil
}

func positiveInt(env func(k, def string) string, key string, def int) (int, error) {
	raw := env(key, "")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n <= 0 {
		return 0, &Error{key, fmt.Sprintf("%q is not a positive whole number", raw)}
	}
	return n, nil
}

func nonNegativeInt(env func(k, def string) string, key string, def int) (int, error) {
	raw := env(key, "")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, &Error{key, fmt.Sprintf("%q is not a whole number ≥ 0", raw)}
	}
	return n, nil
}

// byteSize reads a positive number of bytes, plain or with a KiB, MiB or
// GiB suffix ("16MiB").
func byteSize(env func(k, def string) string, key string, def int64) (int64, error) {
	raw := env(key, "")
	if raw == "" {
		return def, nil
	}
	num, unit := raw, int64(1)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if n, ok := strings.CutSuffix(raw, u.suffix); ok {
			num, unit = strings.TrimSpace(n), u.size
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/unit {
		return 0, &Error{key, fmt.Sprintf("%q is not a positive size; use bytes or e.g. 512KiB, 16MiB, 1GiB", raw)}
	}
	return n * unit, nil
}
