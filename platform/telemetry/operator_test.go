package telemetry_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/telemetry"
)

// TestOperatorMetricsAtZero: a fresh registry already exports every
// operator metric (so rate() and absent() alerts work before traffic) and
// passes the linter promtool check metrics runs.
func TestOperatorMetricsAtZero(t *testing.T) {
	m := telemetry.NewMetrics()
	problems, err := testutil.GatherAndLint(m.Registry)
	require.NoError(t, err)
	assert.Empty(t, problems)
	for _, name := range []string{
		"analytics_graphql_operations_total", "analytics_tenant_query_seconds_total",
		"analytics_live_subscriptions", "analytics_live_refreshers", "analytics_adhoc_queries_running",
		"analytics_resultcache_hits_total", "analytics_resultcache_misses_total",
		"analytics_responsecache_hits_total", "analytics_responsecache_misses_total",
	} {
		n, err := testutil.GatherAndCount(m.Registry, name)
		require.NoError(t, err)
		assert.Positive(t, n, "%s is exported before anything happened", name)
	}
	assert.Zero(t, testutil.ToFloat64(m.GraphQLOperations.WithLabelValues("anonymous", "query", "INTERNAL")))
}

func TestObserveOperationFoldsLabels(t *testing.T) {
	m := telemetry.NewMetrics()
	tests := []struct {
		name, opName, outcome string
		wantName, wantOutcome string
	}{
		{"named ok", "Dashboard", "ok", "Dashboard", "ok"},
		{"anonymous", "", "BAD_USER_INPUT", "anonymous", "BAD_USER_INPUT"},
		{"not a GraphQL name", "drop table; --", "ok", "other", "ok"},
		{"too long", strings.Repeat("A", 80), "ok", "other", "ok"},
		{"unknown code", "Dashboard", "SOMETHING_NEW", "Dashboard", "other"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := testutil.ToFloat64(m.GraphQLOperations.WithLabelValues(tc.wantName, "query", tc.wantOutcome))
			m.ObserveOperation(tc.opName, "query", tc.outcome)
			assert.Equal(t, before+1, testutil.ToFloat64(m.GraphQLOperations.WithLabelValues(tc.wantName, "query", tc.wantOutcome)))
		})
	}
	t.Run("names past the cap fold into other", func(t *testing.T) {
		m := telemetry.NewMetrics()
		for i := range telemetry.DefaultMaxOperationNames + 50 {
			m.ObserveOperation(fmt.Sprintf("Op%d", i), "query", "ok")
		}
		n, err := testutil.GatherAndCount(m.Registry, "analytics_graphql_operations_total")
		require.NoError(t, err)
		// the pre-created anonymous series, the capped names, one "other"
		assert.Equal(t, 1+len(telemetry.Outcomes)+telemetry.DefaultMaxOperationNames+1, n)
		assert.Equal(t, 50.0, testutil.ToFloat64(m.GraphQLOperations.WithLabelValues("other", "query", "ok")))
	})
}

func TestChargeStoreChargesTheTenant(t *testing.T) {
	m := telemetry.NewMetrics()
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "s", Tenant: "acme"})
	m.ChargeStore(ctx, 1500*time.Millisecond)
	m.ChargeStore(context.Background(), 250*time.Millisecond)
	assert.InDelta(t, 1.5, testutil.ToFloat64(m.TenantQuerySeconds.WithLabelValues("acme")), 1e-9)
	assert.InDelta(t, 0.25, testutil.ToFloat64(m.TenantQuerySeconds.WithLabelValues(telemetry.SystemTenant)), 1e-9)
	for i := range telemetry.DefaultMaxTenantLabels + 5 {
		tctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "s", Tenant: fmt.Sprintf("t%d", i)})
		m.ChargeStore(tctx, time.Second)
	}
	assert.Equal(t, 6.0, testutil.ToFloat64(m.TenantQuerySeconds.WithLabelValues(telemetry.OtherLabel)),
		"acme took the first slot, so the last 6 tenants fold into other")
}

func TestReadingsSumTheirSources(t *testing.T) {
	m := telemetry.NewMetrics()
	m.Read(telemetry.AdhocRunning, func() float64 { return 2 })
	m.Read(telemetry.AdhocRunning, func() float64 { return 3 })
	m.Read(telemetry.CacheHits, func() float64 { return 7 })
	assert.Equal(t, 5.0, gauge(t, m, "analytics_adhoc_queries_running"))
	assert.Equal(t, 7.0, gauge(t, m, "analytics_resultcache_hits_total"))
	assert.Equal(t, 0.0, gauge(t, m, "analytics_live_refreshers"), "no source yet: zero")
}

func gauge(t *testing.T, m *telemetry.Metrics, name string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			require.Len(t, mf.GetMetric(), 1)
			if g := mf.GetMetric()[0].GetGauge(); g != nil {
				return g.GetValue()
			}
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("%s not exported", name)
	return 0
}
