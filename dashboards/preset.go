package dashboards

import (
	"context"

	"github.com/google/uuid"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// PresetSlug is the slug of the dashboard every tenant starts with.
const PresetSlug = "learner-progress"

// presetActor writes the preset (no caller asked for it).
const presetActor = "system"

// presetNamespace derives preset ids: the same tenant always gets the same
// dashboard and widget ids, so concurrent installs write the same row.
var presetNamespace = uuid.MustParse("0b8e8f4e-5a43-4c1e-9f27-3d1f6a9c7b21")

// Preset returns the learner-progress dashboard installed for every tenant
// (over the learning catalog of package metrics) and its widgets.
func Preset() (Input, []WidgetInput) {
	course := []string{"properties.course_id"}
	in := Input{Slug: PresetSlug, Title: "Learner progress",
		Description: "Who is learning, what they complete and how they score.",
		TimeRange:   timerange.Spec{Last: "30d"},
		Filters:     []FilterDef{{Dimension: "properties.course_id", Op: metrics.OpIn, Label: "Course"}},
	}
	widgets := []WidgetInput{
		{Title: "Active learners", Kind: KindKPI, MetricKeys: []string{"active_learners_dau"}, Position: Position{X: 0, Y: 0, W: 3, H: 2}},
		{Title: "Average quiz score", Kind: KindKPI, MetricKeys: []string{"avg_quiz_score"}, Position: Position{X: 3, Y: 0, W: 3, H: 2}},
		{Title: "Completions trend", Kind: KindLine, MetricKeys: []string{"course_completions"}, Grain: timerange.GrainDay, Position: Position{X: 6, Y: 0, W: 6, H: 4}},
		{Title: "Completion rate by course", Kind: KindBar, MetricKeys: []string{"course_completion_rate"}, Dimensions: course, Position: Position{X: 0, Y: 2, W: 6, H: 4}},
		{Title: "Top courses", Kind: KindTable, MetricKeys: []string{"enrolments"}, Dimensions: course, Limit: 10, Position: Position{X: 6, Y: 4, W: 6, H: 4}},
		{Title: "Learning minutes", Kind: KindArea, MetricKeys: []string{"learning_minutes"}, Grain: timerange.GrainDay, Position: Position{X: 0, Y: 6, W: 6, H: 4}},
		{Title: "Enrolments vs completions", Kind: KindLine, MetricKeys: []string{"enrolments", "course_completions"}, Grain: timerange.GrainDay, Position: Position{X: 6, Y: 8, W: 6, H: 4}},
	}
	return in, widgets
}

// ensurePreset installs the presets for a tenant that never had them,
// once per tenant and process.
func (s *Service) ensurePreset(ctx context.Context, scope store.Scope) error {
	if _, ok := s.installed.Load(scope.Tenant()); ok {
		return nil
	}
	in, widgets := Preset()
	if err := s.installPreset(ctx, scope, in, widgets); err != nil {
		return err
	}
	// The learner-journey preset is installed with it, so the dashboards
	// list shows it before anyone opens it by slug.
	if _, err := s.installJourneyPreset(ctx, scope); err != nil {
		return err
	}
	s.installed.Store(scope.Tenant(), struct{}{})
	return nil
}

// installPreset stores a preset dashboard for a tenant that never had it.
// The existence check reads without FINAL and counts tombstones, so a
// tenant who deleted the preset does not get it back; ids are derived
// from the tenant and the slug and the row is version 1, so a concurrent
// install rewrites the same row and never overrides an edit.
func (s *Service) installPreset(ctx context.Context, scope store.Scope, in Input, widgets []WidgetInput) error {
	id := uuid.NewSHA1(presetNamespace, []byte(scope.Tenant()+"/"+in.Slug)).String()
	guard, tenant := scope.Predicate("")
	var n uint64
	if err := s.db.QueryRow(ctx, []any{&n}, "SELECT count() FROM "+store.QuoteIdent(table)+" WHERE "+guard+" AND dashboard_id = ?", tenant, id); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	now := s.now()
	d := &Dashboard{ID: id, Input: in, Version: 1, CreatedAt: now, CreatedBy: presetActor, UpdatedAt: now, UpdatedBy: presetActor}
	for _, w := range widgets {
		wid := uuid.NewSHA1(presetNamespace, []byte(id+"/"+w.Title)).String()
		d.Widgets = append(d.Widgets, Widget{ID: wid, WidgetInput: w, Version: 1})
	}
	return s.write(ctx, scope, ActionInstall, nil, d, false)
}
