// Package journeys answers the three questions asked after "how many":
// funnels (where do learners drop off), retention (who comes back) and
// paths (what do they do next), over the caller's events.
//
// The rule the package keeps: every answer is defined by a plain Go
// evaluation of a user's events (reference.go), and the SQL the compiler
// prints must agree with it; the property tests hold the two together on
// random event sets full of equal timestamps and re-entries. The SQL never
// relies on ClickHouse's windowFunnel or retention functions, whose
// equal-timestamp and strict_* behaviour differ from the documented
// semantics (docs/ARCHITECTURE.md, "Journeys").
//
// Every statement reads the events table of the verified tenant
// (store.Scope, fail closed) with FINAL, binds every value and quotes every
// identifier through package store.
package journeys

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Limits of a request.
const (
	MaxSteps        = 20  // funnel steps
	MaxPeriods      = 52  // retention periods after the start period
	MaxPathSteps    = 10  // path length
	MaxFilters      = 10  // property filters per event matcher
	MaxCohorts      = 10  // cohorts a query is restricted to
	DefaultTopN     = 10  // breakdown values shown before "other"
	MaxTopN         = 50  // breakdown values shown at most
	DefaultMaxEdges = 50  // path edges returned when MaxEdges is 0
	MaxEdgesLimit   = 500 // path edges returned at most
	// SessionGap is the inactivity that starts a new session in paths
	// when the events carry no session_id.
	SessionGap = 30 * time.Minute
)

// OtherValue is the breakdown value that gathers every value after the top N.
const OtherValue = "$other"

// eventsTable is the hot-tier events table (migration 0001).
const eventsTable = "events"

var (
	eventTypeRe = regexp.MustCompile(`^[a-z0-9_.]{1,64}$`)
	propertyRe  = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,63}$`)
)

// Op is a property filter operator, the metric filters' vocabulary.
type Op = metrics.Op

// The filter operators journeys accept: eq, neq, in, not_in and contains
// compare text; gt, gte, lt and lte compare numbers. A missing property
// never matches.
const (
	OpEq       = metrics.OpEq
	OpNeq      = metrics.OpNeq
	OpIn       = metrics.OpIn
	OpNotIn    = metrics.OpNotIn
	OpGt       = metrics.OpGt
	OpGte      = metrics.OpGte
	OpLt       = metrics.OpLt
	OpLte      = metrics.OpLte
	OpContains = metrics.OpContains
)

var ops = []Op{OpEq, OpNeq, OpIn, OpNotIn, OpGt, OpGte, OpLt, OpLte, OpContains}

// Filter is a condition on one top-level event property.
type Filter struct {
	Property string
	Op       Op
	Values   []string // one value, or one or more for in / not_in
}

// Matcher selects events: a type and property filters that all hold.
type Matcher struct {
	EventType string
	Filters   []Filter
}

// Event is one event as the reference evaluator reads it; tests and the
// benchmark load the same events into the engine.
type Event struct {
	User    string
	Type    string
	Session string
	At      time.Time // millisecond precision, as stored
	Props   map[string]string
}

// DefaultMaxMemory is the engine memory one journey statement may use
// when Config.MaxMemory is 0: per-user arrays of a heavy tenant are large.
const DefaultMaxMemory = 4 << 30

// Service answers journey queries for the caller's tenant.
type Service struct {
	db     *store.DB
	now    func() time.Time
	memory int64
	// keyBits is the width funnel event keys may use; 0 means 64. Tests
	// narrow it to run the tuple layout (funnel_sql.go) on short ranges.
	keyBits int
}

// Config tunes a Service.
type Config struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxMemory caps each statement's engine memory (max_memory_usage, bytes);
	// 0 means DefaultMaxMemory. The time limit is the store's.
	MaxMemory int64
}

// NewService returns a Service on db.
func NewService(db *store.DB, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxMemory <= 0 {
		cfg.MaxMemory = DefaultMaxMemory
	}
	return &Service{db: db, now: cfg.Now, memory: cfg.MaxMemory}
}

// query runs one journey statement under the service's memory cap.
func (s *Service) query(ctx context.Context, sql string, args []any) (store.Rows, error) {
	return s.db.Query(store.WithSettings(ctx, store.Settings{"max_memory_usage": s.memory}), sql, args...)
}

// checkMatcher validates a matcher; field names it in errors ("steps[2]").
func checkMatcher(op string, m Matcher, field string) error {
	if !eventTypeRe.MatchString(m.EventType) {
		return errs.Invalid(op, field+".eventType", fmt.Sprintf("%s.eventType %q is not an event type such as lesson.completed", field, m.EventType))
	}
	if len(m.Filters) > MaxFilters {
		return errs.Invalid(op, field+".filters", fmt.Sprintf("%s.filters: at most %d filters, got %d", field, MaxFilters, len(m.Filters)))
	}
	for i, f := range m.Filters {
		ff := fmt.Sprintf("%s.filters[%d]", field, i)
		if !propertyRe.MatchString(f.Property) {
			return errs.Invalid(op, ff+".property", fmt.Sprintf("%s.property %q is not a property name (lower case letters, digits, _)", ff, f.Property))
		}
		if !slices.Contains(ops, f.Op) {
			return errs.Invalid(op, ff+".op", fmt.Sprintf("%s.op %q: use one of %v", ff, f.Op, ops))
		}
		multi := f.Op == OpIn || f.Op == OpNotIn
		if multi && len(f.Values) == 0 || !multi && len(f.Values) != 1 {
			return errs.Invalid(op, ff+".values", fmt.Sprintf("%s: %s needs %s value", ff, f.Op, map[bool]string{true: "at least one", false: "exactly one"}[multi]))
		}
		if numeric(f.Op) {
			if _, err := parseNumber(f.Values[0]); err != nil {
				return errs.Invalid(op, ff+".values", fmt.Sprintf("%s: %s compares numbers; %q is not a number", ff, f.Op, f.Values[0]))
			}
		}
	}
	return nil
}

// oneOf checks an enum field: empty becomes allowed[0] (the default),
// anything else must be one of allowed.
func oneOf[T ~string](op, field string, v *T, allowed ...T) error {
	if *v == "" {
		*v = allowed[0]
		return nil
	}
	if slices.Contains(allowed, *v) {
		return nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	list := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	return errs.Invalid(op, field, fmt.Sprintf("%s %q: use %s", field, *v, list))
}

// checkProperty validates a breakdown property name.
func checkProperty(op, p, field string) error {
	if !propertyRe.MatchString(p) {
		return errs.Invalid(op, field, fmt.Sprintf("%s %q is not a property name (lower case letters, digits, _)", field, p))
	}
	return nil
}

// checkTopN resolves a breakdown's top N (0 means DefaultTopN).
func checkTopN(op string, n int, field string) (int, error) {
	switch {
	case n == 0:
		return DefaultTopN, nil
	case n < 1 || n > MaxTopN:
		return 0, errs.Invalid(op, field, fmt.Sprintf("%s %d must be between 1 and %d", field, n, MaxTopN))
	}
	return n, nil
}

// checkCohorts validates the cohort ids a query is restricted to.
func checkCohorts(op string, ids []string) error {
	if len(ids) > MaxCohorts {
		return errs.Invalid(op, "cohorts", fmt.Sprintf("cohorts: at most %d, got %d", MaxCohorts, len(ids)))
	}
	for i, id := range ids {
		if id == "" {
			return errs.Invalid(op, fmt.Sprintf("cohorts[%d]", i), fmt.Sprintf("cohorts[%d] is empty", i))
		}
	}
	return nil
}

// knownTypes returns which of types the tenant has events of; a matcher
// naming a type the tenant never recorded is almost always a typo, so
// queries refuse it instead of answering zero.
func (s *Service) knownTypes(ctx context.Context, scope store.Scope, types []string) (map[string]bool, error) {
	guard, tenant := scope.Predicate("")
	rows, err := s.query(ctx, "SELECT DISTINCT type FROM "+store.QuoteIdent(eventsTable)+" WHERE "+guard+" AND type IN ?", []any{tenant, types})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out[t] = true
	}
	return out, rows.Err()
}

// requireKnown fails with a field-named error for the first matcher whose
// type the tenant has no events of. fields[i] names matchers[i].
func (s *Service) requireKnown(ctx context.Context, op string, scope store.Scope, matchers []Matcher, fields []string) error {
	types := make([]string, 0, len(matchers))
	for _, m := range matchers {
		types = append(types, m.EventType)
	}
	slices.Sort(types)
	types = slices.Compact(types)
	known, err := s.knownTypes(ctx, scope, types)
	if err != nil {
		return err
	}
	for i, m := range matchers {
		if !known[m.EventType] {
			return errs.Invalid(op, fields[i]+".eventType", fmt.Sprintf("%s.eventType %q: this tenant has no events of that type; check the spelling (e.g. lesson.completed)", fields[i], m.EventType))
		}
	}
	return nil
}
