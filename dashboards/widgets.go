package dashboards

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Size of a widget given without a position (GraphQL position is optional).
const (
	DefaultWidgetWidth  = 6
	DefaultWidgetHeight = 4
)

// AddWidget appends a widget to a dashboard and returns the dashboard at
// its new version (the widget is last; without a position it goes below
// the others).
func (s *Service) AddWidget(ctx context.Context, dashboardID string, expectedVersion uint64, w WidgetInput) (*Dashboard, error) {
	const op = "dashboards.AddWidget"
	return s.change(ctx, op, dashboardID, expectedVersion, ActionWidgetAdd, func(_ store.Scope, d *Dashboard) error {
		if len(d.Widgets) >= MaxWidgets {
			return errs.Invalid(op, "widget", fmt.Sprintf("dashboard %q already has the maximum of %d widgets", d.Slug, MaxWidgets))
		}
		w = place(w, d.Widgets, columnsOf(d.Layout))
		if err := s.validateWidget(ctx, op, "widget", w, columnsOf(d.Layout)); err != nil {
			return err
		}
		d.Widgets = append(d.Widgets, Widget{ID: uuid.NewString(), WidgetInput: w, Version: 1})
		return nil
	})
}

// UpdateWidget replaces a widget's fields (without a position it keeps
// its own); its own version is bumped too, so its cached data is never
// served again.
func (s *Service) UpdateWidget(ctx context.Context, dashboardID string, expectedVersion uint64, widgetID string, w WidgetInput) (*Dashboard, error) {
	const op = "dashboards.UpdateWidget"
	return s.change(ctx, op, dashboardID, expectedVersion, ActionWidgetUpdate, func(_ store.Scope, d *Dashboard) error {
		i, err := widgetIndex(op, d, widgetID)
		if err != nil {
			return err
		}
		if w.Position == (Position{}) {
			w.Position = d.Widgets[i].Position
		}
		if err := s.validateWidget(ctx, op, "widget", w, columnsOf(d.Layout)); err != nil {
			return err
		}
		d.Widgets[i].WidgetInput = w
		d.Widgets[i].Version++
		return nil
	})
}

// RemoveWidget deletes a widget from a dashboard.
func (s *Service) RemoveWidget(ctx context.Context, dashboardID string, expectedVersion uint64, widgetID string) (*Dashboard, error) {
	const op = "dashboards.RemoveWidget"
	return s.change(ctx, op, dashboardID, expectedVersion, ActionWidgetRemove, func(_ store.Scope, d *Dashboard) error {
		i, err := widgetIndex(op, d, widgetID)
		if err != nil {
			return err
		}
		d.Widgets = slices.Delete(d.Widgets, i, i+1)
		return nil
	})
}

// ReorderWidgets puts the widgets in the order of widgetIDs, which must
// name every widget of the dashboard exactly once.
func (s *Service) ReorderWidgets(ctx context.Context, dashboardID string, expectedVersion uint64, widgetIDs []string) (*Dashboard, error) {
	const op = "dashboards.ReorderWidgets"
	return s.change(ctx, op, dashboardID, expectedVersion, ActionWidgetReorder, func(_ store.Scope, d *Dashboard) error {
		if len(widgetIDs) != len(d.Widgets) {
			return errs.Invalid(op, "widgetIds", fmt.Sprintf("widgetIds has %d ids; give all %d widget ids of the dashboard once each", len(widgetIDs), len(d.Widgets)))
		}
		out := make([]Widget, 0, len(d.Widgets))
		seen := map[string]bool{}
		for j, id := range widgetIDs {
			i := slices.IndexFunc(d.Widgets, func(w Widget) bool { return w.ID == id })
			if i < 0 || seen[id] {
				return errs.Invalid(op, fmt.Sprintf("widgetIds[%d]", j), fmt.Sprintf("widgetIds[%d] %q is unknown or repeated; give every widget id of the dashboard once", j, id))
			}
			seen[id] = true
			out = append(out, d.Widgets[i])
		}
		d.Widgets = out
		return nil
	})
}

// widgetIndex finds a widget by id or fails with KindNotFound.
func widgetIndex(op string, d *Dashboard, widgetID string) (int, error) {
	i := slices.IndexFunc(d.Widgets, func(w Widget) bool { return w.ID == widgetID })
	if i < 0 {
		return 0, errs.E(op, errs.KindNotFound, fmt.Sprintf("widget %q not found on dashboard %q", widgetID, d.Slug)).With("field", "widgetId")
	}
	return i, nil
}

// place gives w, when it has no position, one below every widget in
// others, at the left edge, DefaultWidgetWidth (at most the grid's width)
// by DefaultWidgetHeight. A widget with a position is returned as it is.
func place(w WidgetInput, others []Widget, columns int) WidgetInput {
	if w.Position != (Position{}) {
		return w
	}
	bottom := 0
	for _, o := range others {
		bottom = max(bottom, o.Position.Y+o.Position.H)
	}
	w.Position = Position{X: 0, Y: bottom, W: min(DefaultWidgetWidth, columns), H: DefaultWidgetHeight}
	return w
}
