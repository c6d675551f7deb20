package config

import (
	"errors"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(nil, envOf(nil))
	require.NoError(t, err)
	assert.Equal(t, DefaultHTTPAddr, c.HTTPAddr)
	assert.Equal(t, DefaultDataDir, c.DataDir)
	assert.True(t, c.Embedded())
	assert.Equal(t, DefaultQueryTimeout, c.QueryTimeout)
	assert.Equal(t, DefaultRetentionCron, c.RetentionCron)
	assert.Equal(t, 13, c.HotMonths)
	assert.Equal(t, 5, c.ColdYears)
	assert.Nil(t, c.PIIKeys, "nil: the privacy package's defaults")
	assert.Equal(t, 90*24*time.Hour, c.ReportRetention)
	assert.False(t, c.ReportWebhookAllowPrivate, "private webhook addresses are refused unless asked for")
	assert.Equal(t, 1<<20, c.MaxBodyBytes)
	assert.Equal(t, 1000, c.MaxListLength)
	assert.Equal(t, 64<<10, c.MaxStringBytes)
	assert.Equal(t, 20, c.WSSubscriptions)
	assert.Equal(t, 100, c.TenantSubs)
}

func TestGraphQLEdgeSettings(t *testing.T) {
	c, err := Load(nil, envOf(map[string]string{"ANALYTICS_GRAPHQL_MAX_BODY_BYTES": "65536", "ANALYTICS_GRAPHQL_MAX_LIST_LENGTH": "50",
		"ANALYTICS_GRAPHQL_MAX_STRING_BYTES": "4096", "ANALYTICS_WS_MAX_SUBSCRIPTIONS": "5", "ANALYTICS_TENANT_MAX_SUBSCRIPTIONS": "7"}))
	require.NoError(t, err)
	assert.Equal(t, []int{65536, 50, 4096, 5, 7}, []int{c.MaxBodyBytes, c.MaxListLength, c.MaxStringBytes, c.WSSubscriptions, c.TenantSubs})
}

func TestReportSettings(t *testing.T) {
	for _, tc := range []struct {
		retention, private string
		want               time.Duration
		allow              bool
	}{
		{"30d", "true", 30 * 24 * time.Hour, true},
		{"36h", "false", 36 * time.Hour, false},
		{"", "1", DefaultReportRetention, true},
	} {
		t.Run(tc.retention+"/"+tc.private, func(t *testing.T) {
			c, err := Load(nil, envOf(map[string]string{"ANALYTICS_REPORT_RETENTION": tc.retention, "ANALYTICS_REPORT_WEBHOOK_ALLOW_PRIVATE": tc.private}))
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.ReportRetention)
			assert.Equal(t, tc.allow, c.ReportWebhookAllowPrivate)
		})
	}
}

func TestAdhocSettings(t *testing.T) {
	c, err := Load(nil, envOf(nil))
	require.NoError(t, err)
	assert.Equal(t, int64(16<<20), c.AdhocMaxResultBytes)
	assert.Equal(t, int64(1<<30), c.AdhocMaxMemory)
	assert.Equal(t, 4, c.AdhocMaxConcurrent)
	c, err = Load(nil, envOf(map[string]string{"ANALYTICS_ADHOC_MAX_RESULT_BYTES": "512KiB",
		"ANALYTICS_ADHOC_MAX_MEMORY": "3000000", "ANALYTICS_ADHOC_MAX_CONCURRENT": "9"}))
	require.NoError(t, err)
	assert.Equal(t, int64(512<<10), c.AdhocMaxResultBytes)
	assert.Equal(t, int64(3000000), c.AdhocMaxMemory)
	assert.Equal(t, 9, c.AdhocMaxConcurrent)
}

func TestFlagBeatsEnv(t *testing.T) {
	c, err := Load([]string{"--http-addr", "127.0.0.1:9999"}, envOf(map[string]string{"ANALYTICS_HTTP_ADDR": ":7000", "ANALYTICS_DATA_DIR": "/tmp/x"}))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9999", c.HTTPAddr)
	assert.Equal(t, "/tmp/x", c.DataDir)
}

func TestLoadRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		args    []string
		setting string
	}{
		{map[string]string{"ANALYTICS_HTTP_ADDR": "8080"}, nil, "ANALYTICS_HTTP_ADDR"},
		{map[string]string{"ANALYTICS_CLICKHOUSE_URL": "http://x:8123"}, nil, "ANALYTICS_CLICKHOUSE_URL"},
		{map[string]string{"ANALYTICS_CLICKHOUSE_CLUSTER": "c"}, nil, "ANALYTICS_CLICKHOUSE_CLUSTER"},
		{map[string]string{"ANALYTICS_REDIS_URL": "localhost"}, nil, "ANALYTICS_REDIS_URL"},
		{map[string]string{"ANALYTICS_JWT_SECRET": "short"}, nil, "ANALYTICS_JWT_SECRET"},
		{map[string]string{"ANALYTICS_QUERY_TIMEOUT": "soon"}, nil, "ANALYTICS_QUERY_TIMEOUT"},
		{map[string]string{"ANALYTICS_WORKER_CONCURRENCY": "0"}, nil, "ANALYTICS_WORKER_CONCURRENCY"},
		{map[string]string{"ANALYTICS_COMPACT_CRON": "every day"}, nil, "ANALYTICS_COMPACT_CRON"},
		{map[string]string{"ANALYTICS_MERGE_CURRENT_CRON": "often"}, nil, "ANALYTICS_MERGE_CURRENT_CRON"},
		{map[string]string{"ANALYTICS_ALERTS_CRON": "often"}, nil, "ANALYTICS_ALERTS_CRON"},
		{map[string]string{"ANALYTICS_MERGE_MAX_PARTS": "0"}, nil, "ANALYTICS_MERGE_MAX_PARTS"},
		{map[string]string{"ANALYTICS_RETENTION_CRON": "daily"}, nil, "ANALYTICS_RETENTION_CRON"},
		{map[string]string{"ANALYTICS_HOT_MONTHS": "0"}, nil, "ANALYTICS_HOT_MONTHS"},
		{map[string]string{"ANALYTICS_HOT_MONTHS": "36", "ANALYTICS_COLD_YEARS": "2"}, nil, "ANALYTICS_COLD_YEARS"},
		{map[string]string{"ANALYTICS_LOG_LEVEL": "loud"}, nil, "ANALYTICS_LOG_LEVEL"},
		{map[string]string{"ANALYTICS_CLICKHOUSE_DATABASE": "a-b"}, nil, "ANALYTICS_CLICKHOUSE_DATABASE"},
		{map[string]string{"ANALYTICS_REPORT_RETENTION": "0d"}, nil, "ANALYTICS_REPORT_RETENTION"},
		{map[string]string{"ANALYTICS_REPORT_RETENTION": "three months"}, nil, "ANALYTICS_REPORT_RETENTION"},
		{map[string]string{"ANALYTICS_REPORT_WEBHOOK_ALLOW_PRIVATE": "yes please"}, nil, "ANALYTICS_REPORT_WEBHOOK_ALLOW_PRIVATE"},
		{map[string]string{"ANALYTICS_ADHOC_MAX_RESULT_BYTES": "lots"}, nil, "ANALYTICS_ADHOC_MAX_RESULT_BYTES"},
		{map[string]string{"ANALYTICS_ADHOC_MAX_MEMORY": "0GiB"}, nil, "ANALYTICS_ADHOC_MAX_MEMORY"},
		{map[string]string{"ANALYTICS_ADHOC_MAX_CONCURRENT": "-1"}, nil, "ANALYTICS_ADHOC_MAX_CONCURRENT"},
		{map[string]string{"ANALYTICS_GRAPHQL_MAX_BODY_BYTES": "1MiB"}, nil, "ANALYTICS_GRAPHQL_MAX_BODY_BYTES"},
		{map[string]string{"ANALYTICS_TENANT_MAX_SUBSCRIPTIONS": "0"}, nil, "ANALYTICS_TENANT_MAX_SUBSCRIPTIONS"},
		{nil, []string{"--bogus"}, "flags"},
	} {
		t.Run(tc.setting, func(t *testing.T) {
			_, err := Load(tc.args, envOf(tc.env))
			var ce *Error
			require.True(t, errors.As(err, &ce), "want a config error, got %v", err)
			assert.True(t, strings.HasPrefix(ce.Setting, tc.setting), ce.Setting)
			assert.NotEmpty(t, ce.Msg)
		})
	}
}

// TestREADMEDocumentsEverySetting keeps the README's configuration table true.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, s := range Settings {
		assert.Contains(t, string(readme), s.Env, "README.md must document %s", s.Env)
	}
}

func TestApplyIngestGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	restore := ApplyIngestGC(func(string) string { return "" })
	if got := debug.SetGCPercent(IngestGCPercent); got != IngestGCPercent {
		t.Fatalf("GOGC unset: runtime GC percent is %d, want %d", got, IngestGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("after restore: GC percent %d, want 100", got)
	}
	// With GOGC set the runtime's own reading of it stays.
	debug.SetGCPercent(150)
	ApplyIngestGC(func(k string) string {
		if k == "GOGC" {
			return "150"
		}
		return ""
	})()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Fatalf("GOGC=150: GC percent %d", got)
	}
}
