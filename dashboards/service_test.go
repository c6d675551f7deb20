package dashboards

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

func kpi(title, key string) WidgetInput {
	return WidgetInput{Title: title, Kind: KindKPI, MetricKeys: []string{key}, Position: Position{W: 3, H: 2}}
}

// Position is optional in the schema: a widget without one is placed
// below the others instead of failing validation, and an update without
// one keeps the widget where it was.
func TestWidgetWithoutPosition(t *testing.T) {
	e := newEnv(t)
	ctx := as("acme")
	bare := func(title string) WidgetInput {
		return WidgetInput{Title: title, Kind: KindKPI, MetricKeys: []string{"enrolments"}}
	}
	d, err := e.svc.Create(ctx, Input{Slug: "bare", Title: "Bare"}, []WidgetInput{kpi("Placed", "enrolments"), bare("A"), bare("B")})
	require.NoError(t, err)
	assert.Equal(t, []Position{{W: 3, H: 2}, {Y: 2, W: DefaultWidgetWidth, H: DefaultWidgetHeight}, {Y: 6, W: 6, H: 4}},
		[]Position{d.Widgets[0].Position, d.Widgets[1].Position, d.Widgets[2].Position})
	d, err = e.svc.AddWidget(ctx, d.ID, 1, bare("C"))
	require.NoError(t, err)
	assert.Equal(t, Position{Y: 10, W: 6, H: 4}, d.Widgets[3].Position)
	d, err = e.svc.UpdateWidget(ctx, d.ID, 2, d.Widgets[1].ID, bare("A2"))
	require.NoError(t, err)
	assert.Equal(t, "A2", d.Widgets[1].Title)
	assert.Equal(t, Position{Y: 2, W: 6, H: 4}, d.Widgets[1].Position, "an update without a position keeps it")
	narrow, err := e.svc.Create(ctx, Input{Slug: "narrow", Title: "Narrow", Layout: Layout{Columns: 4}}, []WidgetInput{bare("A")})
	require.NoError(t, err)
	assert.Equal(t, Position{W: 4, H: 4}, narrow.Widgets[0].Position, "never wider than the grid")
}

func TestCommands(t *testing.T) {
	e := newEnv(t)
	ctx := as("acme")
	d, err := e.svc.Create(ctx, Input{Slug: "ops", Title: "Ops"}, []WidgetInput{kpi("Enrolments", "enrolments")})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), d.Version)
	assert.Equal(t, "tester@acme", d.CreatedBy)
	require.Len(t, d.Widgets, 1)

	bySlug, err := e.svc.Get(ctx, "ops")
	require.NoError(t, err)
	assert.Equal(t, d.ID, bySlug.ID)

	_, err = e.svc.Create(ctx, Input{Slug: "ops", Title: "Again"}, nil)
	assert.True(t, errs.Is(err, errs.KindConflict), "duplicate slug: %v", err)

	d, err = e.svc.AddWidget(ctx, d.ID, 1, kpi("Completions", "course_completions"))
	require.NoError(t, err)
	assert.Equal(t, uint64(2), d.Version)
	w0, w1 := d.Widgets[0].ID, d.Widgets[1].ID
	d, err = e.svc.UpdateWidget(ctx, d.ID, 2, w0, kpi("Enrolments!", "enrolments"))
	require.NoError(t, err)
	assert.Equal(t, uint64(2), d.Widgets[0].Version, "the widget's own version is bumped")
	d, err = e.svc.ReorderWidgets(ctx, d.ID, 3, []string{w1, w0})
	require.NoError(t, err)
	assert.Equal(t, []string{w1, w0}, []string{d.Widgets[0].ID, d.Widgets[1].ID})
	d, err = e.svc.RemoveWidget(ctx, d.ID, 4, w1)
	require.NoError(t, err)
	assert.Equal(t, uint64(5), d.Version)
	require.Len(t, d.Widgets, 1)

	_, err = e.svc.Update(ctx, d.ID, 3, Input{Slug: "ops", Title: "Stale"})
	require.True(t, errs.Is(err, errs.KindConflict), "stale version: %v", err)
	assert.Contains(t, errs.PublicMessage(err), "version 5")
	assert.Equal(t, uint64(5), errs.PublicFields(err)["currentVersion"])

	d, err = e.svc.Update(ctx, d.ID, 5, Input{Slug: "ops-2", Title: "Renamed"})
	require.NoError(t, err)
	got, err := e.svc.Get(ctx, "ops-2")
	require.NoError(t, err)
	assert.Equal(t, "Renamed", got.Title)

	// Pages of one, in slug order: both presets are listed before anyone
	// opened them, then the tenant's own dashboard.
	page, err := e.svc.List(ctx, 1, "")
	require.NoError(t, err)
	require.True(t, page.HasNext)
	assert.Equal(t, JourneyPresetSlug, page.Dashboards[0].Slug)
	page, err = e.svc.List(ctx, 1, page.EndCursor)
	require.NoError(t, err)
	require.True(t, page.HasNext)
	assert.Equal(t, PresetSlug, page.Dashboards[0].Slug)
	page, err = e.svc.List(ctx, 1, page.EndCursor)
	require.NoError(t, err)
	assert.Equal(t, "ops-2", page.Dashboards[0].Slug)
	assert.False(t, page.HasNext)

	use, err := e.svc.MetricUsages(ctx, "acme", "", "enrolments")
	require.NoError(t, err)
	assert.Contains(t, use, metrics.Usage{EntityType: UsageEntityType, EntityID: d.ID, Name: "Renamed › Enrolments!"})

	require.NoError(t, e.svc.Delete(ctx, d.ID, 6))
	_, err = e.svc.Get(ctx, d.ID)
	assert.True(t, errs.Is(err, errs.KindNotFound), "deleted: %v", err)

	var n uint64
	require.NoError(t, e.db.QueryRow(ctx, []any{&n}, "SELECT count() FROM audit_log WHERE tenant_id = ? AND entity_type = 'dashboard' AND entity_id = ?", "acme", d.ID))
	assert.Equal(t, uint64(7), n, "create, 4 widget commands, update, delete")
}

func TestValidation(t *testing.T) {
	e := newEnv(t)
	ctx := as("acme")
	for _, tc := range []struct {
		name  string
		in    Input
		w     WidgetInput
		field string
	}{
		{"bad slug", Input{Slug: "Bad Slug", Title: "x"}, kpi("a", "enrolments"), "slug"},
		{"missing metric", Input{Slug: "a", Title: "x"}, kpi("a", "no_such_metric"), "widgets[0].metricKeys[0]"},
		{"dimension not allowed", Input{Slug: "a", Title: "x"},
			WidgetInput{Title: "a", Kind: KindBar, MetricKeys: []string{"enrolments"}, Dimensions: []string{"properties.score"}, Position: Position{W: 3, H: 2}},
			"widgets[0].dimensions[0]"},
		{"off the grid", Input{Slug: "a", Title: "x"},
			WidgetInput{Title: "a", Kind: KindKPI, MetricKeys: []string{"enrolments"}, Position: Position{X: 10, W: 3, H: 2}}, "widgets[0].position"},
		{"bad kind", Input{Slug: "a", Title: "x"}, WidgetInput{Title: "a", Kind: "GAUGE", MetricKeys: []string{"enrolments"}, Position: Position{W: 1, H: 1}}, "widgets[0].kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Create(ctx, tc.in, []WidgetInput{tc.w})
			require.True(t, errs.Is(err, errs.KindInvalid), "%v", err)
			assert.Equal(t, tc.field, errs.PublicFields(err)["field"], errs.PublicMessage(err))
		})
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	a, b := as("tenant-a"), as("tenant-b")
	da, err := e.svc.Get(a, PresetSlug)
	require.NoError(t, err)
	db, err := e.svc.Get(b, PresetSlug)
	require.NoError(t, err)
	assert.NotEqual(t, da.ID, db.ID, "each tenant has its own preset")

	_, err = e.svc.Get(b, da.ID)
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	_, err = e.svc.Render(b, da.ID, nil, january())
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	_, err = e.svc.Update(b, da.ID, 1, Input{Slug: "x", Title: "x"})
	assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)

	_, err = e.svc.Get(context.Background(), PresetSlug)
	assert.True(t, errs.Is(err, errs.KindUnauthenticated), "no tenant fails closed: %v", err)

	sa, _ := store.DangerousScopeForTenant("tenant-a")
	sb, _ := store.DangerousScopeForTenant("tenant-b")
	r := rangeOf(t, january())
	assert.NotEqual(t, cacheKey(sa, da, da.Widgets[0], r, nil), cacheKey(sb, da, da.Widgets[0], r, nil),
		"the same dashboard and widget under two tenants never share a cache entry")
}
