package dashboards

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/learnhub/analytics-service/audit"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// table is the dashboards table of migration 0005.
const table = "dashboards"

// Limits of List.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// columns is the insert column list.
var columns = []string{"tenant_id", "dashboard_id", "slug", "version", "is_deleted", "title", "definition", "updated_at", "updated_by"}

// Page is one page of List, ordered by slug.
type Page struct {
	Dashboards []*Dashboard
	EndCursor  string // pass as after for the next page; empty when none
	HasNext    bool
}

// List returns the caller's dashboards ordered by slug, first at a time
// (0 means DefaultPageSize) after the cursor of a previous page.
func (s *Service) List(ctx context.Context, first int, after string) (*Page, error) {
	const op = "dashboards.List"
	first, err := store.PageSize(op, first, DefaultPageSize, MaxPageSize)
	if err != nil {
		return nil, err
	}
	afterSlug := ""
	if after != "" {
		raw, err := base64.RawURLEncoding.DecodeString(after)
		if err != nil {
			return nil, errs.Invalid(op, "after", "after is not a cursor from a previous page")
		}
		afterSlug = string(raw)
	}
	scope, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	guard, tenant := scope.Predicate("")
	all, err := s.query(ctx, "SELECT definition FROM "+store.QuoteIdent(table)+" FINAL WHERE "+guard+
		" AND is_deleted = 0 AND slug > ? ORDER BY slug, dashboard_id LIMIT ?", tenant, afterSlug, first+1)
	if err != nil {
		return nil, err
	}
	page := &Page{Dashboards: all}
	if len(all) > first {
		page.Dashboards, page.HasNext = all[:first], true
		page.EndCursor = Cursor(all[first-1])
	}
	return page, nil
}

// Cursor is the opaque paging cursor that points just after d in a listing.
func Cursor(d *Dashboard) string { return base64.RawURLEncoding.EncodeToString([]byte(d.Slug)) }

// get reads the current dashboard with this id or slug.
func (s *Service) get(ctx context.Context, scope store.Scope, op, idOrSlug string) (*Dashboard, error) {
	guard, tenant := scope.Predicate("")
	found, err := s.query(ctx, "SELECT definition FROM "+store.QuoteIdent(table)+" FINAL WHERE "+guard+
		" AND is_deleted = 0 AND (dashboard_id = ? OR slug = ?) ORDER BY dashboard_id = ? DESC, updated_at LIMIT 1",
		tenant, idOrSlug, idOrSlug, idOrSlug)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		if idOrSlug == JourneyPresetSlug {
			return s.getJourneyPreset(ctx, scope, op)
		}
		return nil, notFound(op, idOrSlug)
	}
	return found[0], nil
}

// getJourneyPreset installs the learner-journey preset on first use and
// reads it; a tenant who deleted it gets KindNotFound.
func (s *Service) getJourneyPreset(ctx context.Context, scope store.Scope, op string) (*Dashboard, error) {
	again, err := s.installJourneyPreset(ctx, scope)
	if err != nil || !again {
		return nil, cmp.Or(err, notFound(op, JourneyPresetSlug))
	}
	guard, tenant := scope.Predicate("")
	found, err := s.query(ctx, "SELECT definition FROM "+store.QuoteIdent(table)+" FINAL WHERE "+guard+
		" AND is_deleted = 0 AND slug = ? ORDER BY updated_at LIMIT 1", tenant, JourneyPresetSlug)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, notFound(op, JourneyPresetSlug)
	}
	return found[0], nil
}

// slugFree fails with KindConflict when another live dashboard (not self) has slug.
func (s *Service) slugFree(ctx context.Context, scope store.Scope, op, slug, self string) error {
	guard, tenant := scope.Predicate("")
	var n uint64
	err := s.db.QueryRow(ctx, []any{&n}, "SELECT count() FROM "+store.QuoteIdent(table)+" FINAL WHERE "+guard+
		" AND is_deleted = 0 AND slug = ? AND dashboard_id != ?", tenant, slug, self)
	if err != nil {
		return err
	}
	if n > 0 {
		return errs.E(op, errs.KindConflict, fmt.Sprintf("a dashboard with slug %q already exists; pick another slug", slug)).With("field", "slug")
	}
	return nil
}

// write stores a new version of a dashboard with its audit row (audit
// first: a failure leaves a record of an attempt, never an unrecorded change).
func (s *Service) write(ctx context.Context, scope store.Scope, action string, before, after *Dashboard, deleted bool) error {
	js, err := json.Marshal(after)
	if err != nil {
		return errs.Wrap("dashboards.write", errs.KindInternal, err, "")
	}
	b := ""
	if before != nil {
		bj, _ := json.Marshal(before)
		b = string(bj)
	}
	row := audit.Row(ctx, scope.Tenant(), after.UpdatedAt, action, "dashboard", after.ID, b, string(js))
	if err := audit.Write(ctx, s.db, [][]any{row}); err != nil {
		return err
	}
	var del uint8
	if deleted {
		del = 1
	}
	if err := s.db.Insert(ctx, store.Insert{Table: table, Columns: columns, Rows: [][]any{{
		scope.Tenant(), after.ID, after.Slug, after.Version, del, after.Title, string(js), after.UpdatedAt, after.UpdatedBy}}}); err != nil {
		return err
	}
	s.publishVersion(ctx, scope, after)
	return nil
}

func (s *Service) query(ctx context.Context, sql string, args ...any) ([]*Dashboard, error) {
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Dashboard{}
	for rows.Next() {
		var js string
		if err := rows.Scan(&js); err != nil {
			return nil, err
		}
		d := &Dashboard{}
		if err := json.Unmarshal([]byte(js), d); err != nil {
			return nil, errs.Wrap("dashboards.load", errs.KindInternal, err, "")
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// clone deep-copies a dashboard through JSON (dashboards are small).
func clone(d *Dashboard) *Dashboard {
	b, _ := json.Marshal(d)
	out := &Dashboard{}
	_ = json.Unmarshal(b, out)
	return out
}
