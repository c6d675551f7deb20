package journeys

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// queryOp names the operation of Query errors.
const queryOp = "journeys.query"

// Kind names which journey question a Query asks.
type Kind string

// The journey kinds, named as the dashboard widget kinds and the export
// sources that carry them.
const (
	KindFunnel    Kind = "FUNNEL"
	KindRetention Kind = "RETENTION"
	KindPaths     Kind = "PATHS"
)

// Query is one journey question as the other domains store it (a
// dashboard widget, an export job, a report section): exactly one of
// Funnel, Retention and Paths. It is plain data and encodes as JSON.
type Query struct {
	Funnel    *FunnelRequest    `json:"funnel,omitempty"`
	Retention *RetentionRequest `json:"retention,omitempty"`
	Paths     *PathsRequest     `json:"paths,omitempty"`
}

// Answer is a Query's result: the one of its fields the query asked for.
type Answer struct {
	Funnel    *FunnelResult    `json:"funnel,omitempty"`
	Retention *RetentionResult `json:"retention,omitempty"`
	Paths     *PathsResult     `json:"paths,omitempty"`
}

// Runner checks and answers journey queries for the caller's tenant: what
// dashboards, exports and reports need of *Service.
type Runner interface {
	Check(ctx context.Context, q Query, prefix string) error
	Run(ctx context.Context, q Query, prefix string) (*Answer, error)
}

// CohortRefs are the cohorts q names, each with its field
// (prefix+"cohorts[i]"), for a metrics.CohortChecker.
// A paths query's AfterFunnel cohorts follow, as
// prefix+"afterFunnel.funnel.cohorts[i]".
func (q Query) CohortRefs(prefix string) []metrics.CohortRef {
	var refs []metrics.CohortRef
	add := func(ids []string, field string) {
		for i, id := range ids {
			refs = append(refs, metrics.CohortRef{ID: id, Field: fmt.Sprintf("%s%s[%d]", prefix, field, i)})
		}
	}
	add(q.Cohorts(), "cohorts")
	if q.Paths != nil && q.Paths.AfterFunnel != nil {
		add(q.Paths.AfterFunnel.Funnel.Cohorts, "afterFunnel.funnel.cohorts")
	}
	return refs
}

// Kind is the question q asks; empty when it asks none or several.
func (q Query) Kind() Kind {
	var k Kind
	n := 0
	if q.Funnel != nil {
		k, n = KindFunnel, n+1
	}
	if q.Retention != nil {
		k, n = KindRetention, n+1
	}
	if q.Paths != nil {
		k, n = KindPaths, n+1
	}
	if n != 1 {
		return ""
	}
	return k
}

// Cohorts are the cohort ids q is restricted to, for the caller's
// tenant check (the service itself only reads their members).
func (q Query) Cohorts() []string {
	switch {
	case q.Funnel != nil:
		return q.Funnel.Cohorts
	case q.Retention != nil:
		return q.Retention.Cohorts
	case q.Paths != nil:
		return q.Paths.Cohorts
	}
	return nil
}

// Over is a copy of q asking about rng instead of its own time range,
// in zone when q names none: a dashboard's window and zone apply to a
// widget that does not fix its own.
func (q Query) Over(rng timerange.Range, zone string) Query {
	spec := timerange.Spec{From: &rng.From, To: &rng.To}
	switch {
	case q.Funnel != nil:
		f := *q.Funnel
		f.TimeRange = spec
		if f.TimeZone == "" {
			f.TimeZone = zone
		}
		q.Funnel = &f
	case q.Retention != nil:
		r := *q.Retention
		r.TimeRange = spec
		if r.TimeZone == "" {
			r.TimeZone = zone
		}
		q.Retention = &r
	case q.Paths != nil:
		p := *q.Paths
		p.TimeRange = spec
		q.Paths = &p
	}
	return q
}

// TimeRange is q's own window; the zero Spec when it gives none.
func (q Query) TimeRange() timerange.Spec {
	switch {
	case q.Funnel != nil:
		return q.Funnel.TimeRange
	case q.Retention != nil:
		return q.Retention.TimeRange
	case q.Paths != nil:
		return q.Paths.TimeRange
	}
	return timerange.Spec{}
}

// TimeZone is the zone q's periods follow; empty means UTC.
func (q Query) TimeZone() string {
	switch {
	case q.Funnel != nil:
		return q.Funnel.TimeZone
	case q.Retention != nil:
		return q.Retention.TimeZone
	}
	return ""
}

// Check validates q as its query would, without running it: the fields,
// the range and that every event type it names is one the tenant has.
// prefix is put before the field names of errors ("widget.funnel.").
func (s *Service) Check(ctx context.Context, q Query, prefix string) error {
	var err error
	switch q.Kind() {
	case KindFunnel:
		_, _, err = s.prepareFunnel(ctx, *q.Funnel)
	case KindRetention:
		_, _, err = s.prepareRetention(ctx, *q.Retention)
	case KindPaths:
		_, _, err = s.preparePaths(ctx, *q.Paths)
	default:
		return errs.Invalid(queryOp, prefix+"query", fmt.Sprintf("give exactly one of %sfunnel, %sretention and %spaths", prefix, prefix, prefix))
	}
	return PrefixField(err, prefix)
}

// Run answers q for the caller's tenant; errors name fields as Check's.
func (s *Service) Run(ctx context.Context, q Query, prefix string) (*Answer, error) {
	var a Answer
	var err error
	switch q.Kind() {
	case KindFunnel:
		a.Funnel, err = s.Funnel(ctx, *q.Funnel)
	case KindRetention:
		a.Retention, err = s.Retention(ctx, *q.Retention)
	case KindPaths:
		a.Paths, err = s.Paths(ctx, *q.Paths)
	default:
		return nil, s.Check(ctx, q, prefix)
	}
	if err != nil {
		return nil, PrefixField(err, prefix)
	}
	return &a, nil
}

// PrefixField puts prefix before the field an invalid-input error names
// (extensions.field and the start of its message), so a query nested in
// another input ("widget.funnel.steps[1].eventType") is named by its path.
func PrefixField(err error, prefix string) error {
	var e *errs.Error
	if prefix == "" || !errors.As(err, &e) {
		return err
	}
	if f, ok := e.Fields["field"].(string); ok {
		e.Fields["field"] = prefix + f
		if strings.HasPrefix(e.Msg, f) {
			e.Msg = prefix + e.Msg
		}
	}
	return err
}

// prepareRetention validates r and checks its event types for the tenant.
func (s *Service) prepareRetention(ctx context.Context, r RetentionRequest) (*retentionPlan, store.Scope, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, store.Scope{}, err
	}
	p, err := checkRetention(r, s.now())
	if err != nil {
		return nil, store.Scope{}, err
	}
	if err := s.requireKnown(ctx, retentionOp, scope, []Matcher{p.StartEvent, p.ReturnEvent}, []string{"startEvent", "returnEvent"}); err != nil {
		return nil, store.Scope{}, err
	}
	return p, scope, nil
}

// preparePaths validates r and checks its anchor's type for the tenant.
func (s *Service) preparePaths(ctx context.Context, r PathsRequest) (*pathsPlan, store.Scope, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, store.Scope{}, err
	}
	p, err := checkPaths(r, s.now())
	if err != nil {
		return nil, store.Scope{}, err
	}
	// The anchor the caller gave, and the AfterFunnel's steps (one of
	// which anchors the paths when the caller gave none).
	var ms []Matcher
	var fields []string
	if m := p.anchor(); m != nil && (r.StartEvent != nil || r.EndEvent != nil) {
		ms = append(ms, *m)
		fields = append(fields, map[bool]string{true: "startEvent", false: "endEvent"}[r.StartEvent != nil])
	}
	if p.after != nil {
		fms, ffs := p.after.matchers()
		for i := range ffs {
			ffs[i] = "afterFunnel.funnel." + ffs[i]
		}
		ms, fields = append(ms, fms...), append(fields, ffs...)
	}
	if len(ms) > 0 {
		if err := s.requireKnown(ctx, pathsOp, scope, ms, fields); err != nil {
			return nil, store.Scope{}, err
		}
	}
	return p, scope, nil
}
