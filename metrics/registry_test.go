package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv/kvtest"
	"github.com/learnhub/analytics-service/platform/kv/rediskv"
)

type fakeUsage struct{}

func (fakeUsage) MetricUsages(_ context.Context, tenant, _, key string) ([]metrics.Usage, error) {
	return []metrics.Usage{{EntityType: "dashboard", EntityID: "d1", Name: tenant + " uses " + key}}, nil
}

func TestRegistryLifecycle(t *testing.T) {
	e := newEnv(t)
	rdb := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = rdb.Close() })
	reg := metrics.NewRegistry(e.db, metrics.Config{Locks: rediskv.New(rdb), Usage: fakeUsage{}, Now: func() time.Time { return testNow }})
	ctx := as("acme")

	page, err := reg.List(ctx, metrics.ListFilter{}, 0, "")
	require.NoError(t, err)
	assert.Equal(t, len(metrics.Catalog()), page.Total, "catalog installed on first access")

	in := metrics.Input{Key: "logins", Name: "Logins", Kind: metrics.KindCount, EventTypes: []string{"user.login"}}
	m, err := reg.Create(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), m.Version)
	_, err = reg.Create(ctx, in)
	assert.True(t, errs.Is(err, errs.KindConflict), "duplicate key: %v", err)

	in.Name = "User logins"
	m2, err := reg.Update(ctx, m.ID, 1, in)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), m2.Version)
	_, err = reg.Update(ctx, m.ID, 1, in)
	require.True(t, errs.Is(err, errs.KindConflict))
	assert.Contains(t, errs.PublicMessage(err), "version 2")

	sunset := testNow.Add(48 * time.Hour)
	dep, err := reg.Deprecate(ctx, m.ID, 2, metrics.DeprecateInput{Replacement: "active_learners_dau", Sunset: &sunset})
	require.NoError(t, err)
	assert.Equal(t, metrics.StatusDeprecated, dep.Metric.Status)
	require.Len(t, dep.UsedBy, 1)
	assert.Equal(t, "acme uses logins", dep.UsedBy[0].Name)

	res, err := e.q.Query(ctx, metrics.Request{MetricKey: "logins", TimeRange: january})
	require.NoError(t, err)
	require.Len(t, res.Notices, 1)
	assert.Contains(t, res.Notices[0], "active_learners_dau")

	hist, err := reg.History(ctx, m.ID)
	require.NoError(t, err)
	assert.Len(t, hist, 3)

	var audits int64
	require.NoError(t, e.db.QueryRow(context.Background(), []any{&audits},
		"SELECT count() FROM audit_log WHERE tenant_id = 'acme' AND entity_id = ? AND actor = 'tester@acme'", m.ID))
	assert.Equal(t, int64(3), audits)

	// Another tenant sees its own catalog only.
	_, err = reg.Get(as("globex"), m.ID)
	assert.True(t, errs.Is(err, errs.KindNotFound))

	// Pagination walks every metric once.
	seen := map[string]bool{}
	after := ""
	for {
		p, err := reg.List(ctx, metrics.ListFilter{}, 4, after)
		require.NoError(t, err)
		for _, d := range p.Metrics {
			assert.False(t, seen[d.Key])
			seen[d.Key] = true
		}
		if !p.HasNext {
			break
		}
		after = p.EndCursor
	}
	assert.Len(t, seen, len(metrics.Catalog())+1)
}

func TestRegistryLockConflict(t *testing.T) {
	e := newEnv(t)
	rdb := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	t.Cleanup(func() { _ = rdb.Close() })
	reg := metrics.NewRegistry(e.db, metrics.Config{Locks: rediskv.New(rdb)})
	ctx := as("acme")
	m, err := reg.GetByKey(ctx, "enrolments")
	require.NoError(t, err)
	require.NoError(t, rdb.Set(ctx, "lock:metrics:acme:id:"+m.ID, "someone", time.Minute).Err())
	_, err = reg.Deprecate(ctx, m.ID, m.Version, metrics.DeprecateInput{})
	assert.True(t, errs.Is(err, errs.KindConflict), "%v", err)
}

func TestValidation(t *testing.T) {
	e := newEnv(t)
	ctx := as("acme")
	for _, tc := range []struct {
		name  string
		in    metrics.Input
		field string
	}{
		{"bad key", metrics.Input{Key: "Bad Key", Name: "x", Kind: metrics.KindCount}, "key"},
		{"unknown kind", metrics.Input{Key: "x", Name: "x", Kind: "MEDIAN"}, "kind"},
		{"unknown dimension", metrics.Input{Key: "x", Name: "x", Kind: metrics.KindCount, Dimensions: []metrics.Dimension{{Path: "country"}}}, "dimensions[0]"},
		{"property needs type", metrics.Input{Key: "x", Name: "x", Kind: metrics.KindCount, Dimensions: []metrics.Dimension{{Path: "properties.course_id"}}}, "dimensions[0]"},
		{"sum of string", metrics.Input{Key: "x", Name: "x", Kind: metrics.KindSum, Value: &metrics.ValueRef{Path: "properties.title", Type: metrics.TypeString}}, "value.type"},
		{"wrong op for type", metrics.Input{Key: "x", Name: "x", Kind: metrics.KindCount, Filters: []metrics.Filter{{Dimension: "type", Op: metrics.OpGt, Values: []string{"a"}}}}, "filters[0].op"},
		{"ratio of unknown", metrics.Input{Key: "x", Name: "x", Kind: metrics.KindRatio, Numerator: "nope", Denominator: "enrolments"}, "numerator"},
		{"ratio of cumulative", metrics.Input{Key: "x", Name: "x", Kind: metrics.KindRatio, Numerator: "enrolments", Denominator: "cum"}, "denominator"},
		{"formula syntax", metrics.Input{Key: "x", Name: "x", Kind: metrics.KindFormula, Expression: "enrolments / (2"}, "expression"},
		{"formula cycle", metrics.Input{Key: "f1", Name: "x", Kind: metrics.KindFormula, Expression: "f2 + 1"}, "expression"},
		{"dimension not in parts", metrics.Input{Key: "x", Name: "x", Kind: metrics.KindRatio, Numerator: "enrolments", Denominator: "logins", Dimensions: []metrics.Dimension{{Path: "type", Type: metrics.TypeString}}}, "dimensions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "ratio of cumulative" {
				_, err := e.reg.Create(ctx, metrics.Input{Key: "cum", Name: "c", Kind: metrics.KindCumulative, Base: "enrolments"})
				require.NoError(t, err)
			}
			if tc.name == "formula cycle" {
				_, err := e.reg.Create(ctx, metrics.Input{Key: "f1", Name: "f1", Kind: metrics.KindFormula, Expression: "enrolments * 2"})
				require.NoError(t, err)
				_, err = e.reg.Create(ctx, metrics.Input{Key: "f2", Name: "f2", Kind: metrics.KindFormula, Expression: "f1 / 2"})
				require.NoError(t, err)
				f1, err := e.reg.GetByKey(ctx, "f1")
				require.NoError(t, err)
				_, err = e.reg.Update(ctx, f1.ID, f1.Version, tc.in)
				require.Error(t, err)
				assert.Equal(t, tc.field, errs.PublicFields(err)["field"], errs.PublicMessage(err))
				assert.Contains(t, errs.PublicMessage(err), "f1 → f2 → f1")
				return
			}
			if tc.name == "dimension not in parts" {
				_, _ = e.reg.Create(ctx, metrics.Input{Key: "logins", Name: "l", Kind: metrics.KindCount, EventTypes: []string{"user.login"}})
			}
			_, err := e.reg.Create(ctx, tc.in)
			require.Error(t, err)
			assert.True(t, errs.Is(err, errs.KindInvalid), "%v", err)
			assert.Equal(t, tc.field, errs.PublicFields(err)["field"], errs.PublicMessage(err))
		})
	}
}

func TestCatalogIsValid(t *testing.T) {
	all := map[string]*metrics.Definition{}
	for _, in := range metrics.Catalog() {
		all[in.Key] = &metrics.Definition{Input: in, Status: metrics.StatusActive}
	}
	for _, d := range all {
		assert.NoError(t, metrics.Validate(d, func(k string) (*metrics.Definition, bool) { x, ok := all[k]; return x, ok }), d.Key)
	}
}

// Two replicas share Redis and ClickHouse: each reuses its copy of the
// definitions while the generation in Redis is current, and sees the
// other's change on its next query.
func TestDefinitionsCacheFollowsOtherReplicas(t *testing.T) {
	e := newEnv(t)
	rdb := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	clock := func() time.Time { return testNow }
	a := metrics.NewRegistry(e.db, metrics.Config{Locks: rediskv.New(rdb), Cache: rediskv.New(rdb), Now: clock})
	b := metrics.NewRegistry(e.db, metrics.Config{Locks: rediskv.New(rdb), Cache: rediskv.New(rdb), Now: clock})
	ctx := as("acme")

	first, err := a.GetByKey(ctx, "enrolments")
	require.NoError(t, err)
	before := e.counter.queries.Load()
	again, err := a.GetByKey(ctx, "enrolments")
	require.NoError(t, err)
	assert.Equal(t, before, e.counter.queries.Load(), "a current copy answers without reading ClickHouse")
	assert.Equal(t, first.Name, again.Name)

	again.Name = "edited by the caller"
	third, err := a.GetByKey(ctx, "enrolments")
	require.NoError(t, err)
	assert.Equal(t, first.Name, third.Name, "callers get copies, never the cached definition")

	in := first.Input
	in.Name = "Enrolments (renamed on replica b)"
	_, err = b.Update(ctx, first.ID, first.Version, in)
	require.NoError(t, err)
	got, err := a.GetByKey(ctx, "enrolments")
	require.NoError(t, err)
	assert.Equal(t, in.Name, got.Name, "replica a sees b's change at once")

	// A lost generation (eviction, Redis restart) starts a new one: no copy matches.
	require.NoError(t, rdb.FlushAll(context.Background()).Err())
	before = e.counter.queries.Load()
	_, err = a.GetByKey(ctx, "enrolments")
	require.NoError(t, err)
	assert.Greater(t, e.counter.queries.Load(), before, "read again after the generation was lost")
}

// With the definitions cache on, each tenant's copy stays its own: B never
// reads A's metric, and B's write leaves A's copy current.
func TestDefinitionsCacheKeepsTenantsApart(t *testing.T) {
	e := newEnv(t)
	rdb := redis.NewClient(&redis.Options{Addr: kvtest.StartRedis(t)})
	reg := metrics.NewRegistry(e.db, metrics.Config{Locks: rediskv.New(rdb), Cache: rediskv.New(rdb), Now: func() time.Time { return testNow }})
	_, err := reg.Create(as("acme"), metrics.Input{Key: "acme_logins", Name: "Logins", Kind: metrics.KindCount, EventTypes: []string{"user.login"}})
	require.NoError(t, err)
	_, err = reg.GetByKey(as("acme"), "acme_logins")
	require.NoError(t, err)

	_, err = reg.GetByKey(as("globex"), "acme_logins")
	assert.True(t, errs.Is(err, errs.KindNotFound), "globex cannot read acme's metric through the cache: %v", err)
	page, err := reg.List(as("globex"), metrics.ListFilter{}, 100, "")
	require.NoError(t, err)
	for _, d := range page.Metrics {
		assert.NotEqual(t, "acme_logins", d.Key)
	}

	_, err = reg.Create(as("globex"), metrics.Input{Key: "globex_logins", Name: "Logins", Kind: metrics.KindCount, EventTypes: []string{"user.login"}})
	require.NoError(t, err)
	before := e.counter.queries.Load()
	_, err = reg.GetByKey(as("acme"), "acme_logins")
	require.NoError(t, err)
	assert.Equal(t, before, e.counter.queries.Load(), "globex's write does not invalidate acme's copy")
	_, err = reg.GetByKey(as("acme"), "globex_logins")
	assert.True(t, errs.Is(err, errs.KindNotFound))
}
