package resolvers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// Journeys mapping: GraphQL inputs onto journeys requests (the service
// validates everything else and names the field), results back onto models.
// There is no per-tenant time zone setting; like metricQuery, `timezone`
// defaults to UTC.

// maxSavedActors is how many users saveFunnelActorsAsCohort keeps: a static
// cohort's limit.
const maxSavedActors = 100_000

// actorArgs are the arguments of funnelActors and its saved-cohort twin
// beside the funnel; argFields adds the other funnel queries' ones. The
// journeys service names them bare, like every field of the funnel itself.
var (
	actorArgs = []string{"step", "dropped", "breakdownValue", "first", "after"}
	argFields = append([]string{"fromStep", "toStep", "bins", "grain"}, actorArgs...)
)

// renameField rewrites the field an error names (extensions.field) to its
// path in the GraphQL request.
func renameField(err error, rename func(string) string) error {
	var e *errs.Error
	if errors.As(err, &e) {
		if f, ok := e.Fields["field"].(string); ok {
			e.Fields["field"] = rename(f)
		}
	}
	return err
}

// inInput names a field of a query's `input` argument "input.<field>" and
// leaves its other arguments bare.
func inInput(f string) string {
	if slices.Contains(argFields, f) {
		return f
	}
	return "input." + f
}

// inSaveInput names a field of saveFunnelActorsAsCohort's input: the
// actors' choice is "input.step", the funnel's fields "input.funnel.<field>".
func inSaveInput(f string) string {
	if slices.Contains(actorArgs, f) {
		return "input." + f
	}
	return "input.funnel." + f
}

// checkCohortIDs refuses a cohort id that is not the caller's tenant's
// with NOT_FOUND naming it ("cohorts[1]"): the journeys service would
// otherwise answer an empty result for another tenant's cohort.
func (r *Resolver) checkCohortIDs(ctx context.Context, ids []string) error {
	fields := make([]string, len(ids))
	for i := range ids {
		fields[i] = fmt.Sprintf("cohorts[%d]", i)
	}
	return r.checkCohortFields(ctx, ids, fields)
}

// checkCohortFields is checkCohortIDs with each id's field given.
func (r *Resolver) checkCohortFields(ctx context.Context, ids, fields []string) error {
	for i, id := range ids {
		if _, err := r.CohortService.Get(ctx, id); err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return errs.E("resolvers.journeys", errs.KindNotFound, fmt.Sprintf("%s: no cohort %q in this tenant", fields[i], id)).
					With("field", fields[i])
			}
			return err
		}
	}
	return nil
}

func toMatcher(eventType string, filters []*model.JourneyFilterInput) journeys.Matcher {
	m := journeys.Matcher{EventType: eventType}
	for _, f := range filters {
		m.Filters = append(m.Filters, journeys.Filter{Property: f.Property, Op: journeys.Op(strings.ToLower(string(f.Op))), Values: f.Values})
	}
	return m
}

func optMatcher(in *model.JourneyEventInput) *journeys.Matcher {
	if in == nil {
		return nil
	}
	m := toMatcher(in.EventType, in.Filters)
	return &m
}

// toFunnel maps a FunnelInput whose cohorts must be the tenant's.
func (r *Resolver) toFunnel(ctx context.Context, in *model.FunnelInput) (journeys.FunnelRequest, error) {
	if in == nil {
		return journeys.FunnelRequest{}, errs.Invalid("resolvers.funnel", "input", "input is required")
	}
	if err := r.checkCohortIDs(ctx, in.Cohorts); err != nil {
		return journeys.FunnelRequest{}, err
	}
	return parseFunnel(in)
}

// parseFunnel maps a FunnelInput (conversionWindow is a window string such
// as "14d"); whoever runs it checks its cohorts.
func parseFunnel(in *model.FunnelInput) (journeys.FunnelRequest, error) {
	window, err := timerange.ParseLast(in.ConversionWindow)
	if err != nil {
		return journeys.FunnelRequest{}, errs.Invalid("resolvers.funnel", "conversionWindow", "conversionWindow: "+err.Error())
	}
	req := journeys.FunnelRequest{ConversionWindow: window, Order: journeys.Order(deref(in.Order)),
		TimeRange: timeSpec(deref(in.TimeRange)), TimeZone: deref(in.Timezone), Cohorts: in.Cohorts,
		StepReference: journeys.StepReference(deref(in.StepReference))}
	for _, s := range in.Steps {
		req.Steps = append(req.Steps, journeys.Step{Matcher: toMatcher(s.EventType, s.Filters), Label: deref(s.Label)})
	}
	for _, x := range in.Exclusions {
		e := journeys.Exclusion{Matcher: toMatcher(x.EventType, x.Filters)}
		if x.BetweenSteps != nil {
			e.From, e.To = x.BetweenSteps.From, x.BetweenSteps.To
		}
		req.Exclusions = append(req.Exclusions, e)
	}
	if b := in.Breakdown; b != nil {
		req.Breakdown = &journeys.Breakdown{Property: b.Property, Attribution: journeys.Attribution(deref(b.Attribution)),
			Step: deref(b.Step), TopN: deref(b.TopN)}
	}
	return req, nil
}

func seconds(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	s := d.Seconds()
	return &s
}

func toModelSteps(in []journeys.StepResult) []*model.FunnelStep {
	out := make([]*model.FunnelStep, len(in))
	for i, s := range in {
		out[i] = &model.FunnelStep{Step: s.Step, Label: s.Label, EventType: s.EventType, Entered: s.Entered, Converted: s.Converted,
			ConversionFromFirst: s.ConversionFromFirst, ConversionFromPrevious: s.ConversionFromPrevious, Conversion: s.Conversion,
			DropOff: s.DropOff, DropOffRate: s.DropOffRate,
			MedianTimeToConvertSeconds: seconds(s.MedianTimeToConvert), P90TimeToConvertSeconds: seconds(s.P90TimeToConvert)}
	}
	return out
}

func toModelFunnel(res *journeys.FunnelResult) *model.FunnelResult {
	out := &model.FunnelResult{Steps: toModelSteps(res.Steps), Breakdowns: []*model.FunnelBreakdown{}}
	for _, b := range res.Breakdowns {
		out.Breakdowns = append(out.Breakdowns, &model.FunnelBreakdown{Value: b.Value, Other: b.Other, Steps: toModelSteps(b.Steps)})
	}
	return out
}

// funnelActors pages one step's users, as funnelActors and the cohort save read them.
func (r *Resolver) funnelActors(ctx context.Context, in *model.FunnelInput, a journeys.ActorsRequest) (*journeys.ActorsPage, error) {
	req, err := r.toFunnel(ctx, in)
	if err != nil {
		return nil, err
	}
	return r.JourneyService.FunnelActors(ctx, req, a)
}

// saveActors reads every user of the step in one statement (at most a
// static cohort's limit) and creates a static cohort of them, evaluated at
// once so it filters queries now.
func (r *Resolver) saveActors(ctx context.Context, in model.FunnelActorsCohortInput) (*cohorts.Cohort, error) {
	req, err := r.toFunnel(ctx, in.Funnel)
	if err != nil {
		return nil, renameField(err, inSaveInput)
	}
	a := journeys.ActorsRequest{Step: in.Step, Dropped: deref(in.Dropped), Value: in.BreakdownValue}
	users, err := r.JourneyService.FunnelActorIDs(ctx, req, a, maxSavedActors)
	if err != nil {
		return nil, renameField(err, inSaveInput)
	}
	if len(users) == 0 {
		return nil, errs.Invalid("resolvers.saveFunnelActorsAsCohort", "input.step", fmt.Sprintf("step %d has no users to save; a static cohort needs at least one", in.Step))
	}
	c, err := r.CohortService.Create(ctx, cohorts.Cohort{Name: in.Name, Description: deref(in.Description), Static: users})
	if err != nil {
		return nil, renameField(err, func(f string) string { return "input." + f })
	}
	if _, err := r.CohortService.Evaluate(ctx, c.ID, r.now()); err != nil {
		return nil, err
	}
	return c, nil
}

func toRetention(in model.RetentionInput) journeys.RetentionRequest {
	r := journeys.RetentionRequest{StartEvent: toMatcher(in.StartEvent.EventType, in.StartEvent.Filters),
		ReturnEvent: toMatcher(in.ReturnEvent.EventType, in.ReturnEvent.Filters),
		Period:      timerange.Grain(in.Period), Periods: in.Periods, Mode: journeys.RetentionMode(deref(in.Mode)),
		Reference: journeys.RetentionBase(deref(in.Reference)), Cumulative: deref(in.Cumulative),
		TimeRange: timeSpec(deref(in.TimeRange)), TimeZone: deref(in.Timezone), Cohorts: in.Cohorts}
	if b := in.Breakdown; b != nil {
		r.Breakdown = &journeys.RetentionBreakdown{Property: b.Property, TopN: deref(b.TopN)}
	}
	return r
}

func toModelCells(in []journeys.RetentionCell) []*model.RetentionCell {
	out := make([]*model.RetentionCell, len(in))
	for i, c := range in {
		out[i] = &model.RetentionCell{Offset: c.Offset, Users: c.Users, Rate: c.Rate}
	}
	return out
}

func toModelRetentionRows(in []journeys.RetentionCohort) []*model.RetentionCohort {
	out := make([]*model.RetentionCohort, len(in))
	for i, c := range in {
		out[i] = &model.RetentionCohort{Start: c.Start, Size: c.Size, Cells: toModelCells(c.Cells)}
	}
	return out
}

func toModelTriangle(res *journeys.RetentionResult) *model.RetentionResult {
	out := &model.RetentionResult{Cohorts: toModelRetentionRows(res.Cohorts), Mean: toModelCells(res.Mean), Breakdowns: []*model.RetentionBreakdown{}}
	for _, b := range res.Breakdowns {
		out.Breakdowns = append(out.Breakdowns, &model.RetentionBreakdown{Value: b.Value, Other: b.Other,
			Cohorts: toModelRetentionRows(b.Cohorts), Mean: toModelCells(b.Mean)})
	}
	return out
}

// toPaths maps a PathsInput; whoever runs it checks its cohorts (and
// those of afterFunnel.funnel).
func toPaths(in model.PathsInput) (journeys.PathsRequest, error) {
	out := journeys.PathsRequest{StartEvent: optMatcher(in.StartEvent), EndEvent: optMatcher(in.EndEvent), Steps: deref(in.Steps),
		EventTypes: in.EventTypes, Exclude: in.Exclude, MinEdgeUsers: deref(in.MinEdgeUsers), MaxEdges: deref(in.MaxEdges),
		TimeRange: timeSpec(deref(in.TimeRange)), Cohorts: in.Cohorts}
	if a := in.AfterFunnel; a != nil {
		f, err := parseFunnel(a.Funnel)
		if err != nil {
			return out, journeys.PrefixField(err, "afterFunnel.funnel.")
		}
		out.AfterFunnel = &journeys.FunnelStepUsers{Funnel: f, Step: a.Step, Dropped: deref(a.Dropped)}
	}
	return out, nil
}

// pathsCohorts are the cohort ids a PathsInput names, its own and its
// afterFunnel's, with the field each is reported under.
func pathsCohorts(in model.PathsInput) (ids []string, fields []string) {
	for i, id := range in.Cohorts {
		ids, fields = append(ids, id), append(fields, fmt.Sprintf("cohorts[%d]", i))
	}
	if a := in.AfterFunnel; a != nil && a.Funnel != nil {
		for i, id := range a.Funnel.Cohorts {
			ids, fields = append(ids, id), append(fields, fmt.Sprintf("afterFunnel.funnel.cohorts[%d]", i))
		}
	}
	return ids, fields
}

func toModelPaths(res *journeys.PathsResult) *model.PathsResult {
	out := &model.PathsResult{Nodes: make([]*model.PathNode, len(res.Nodes)), Edges: make([]*model.PathEdge, len(res.Edges))}
	for i, n := range res.Nodes {
		out.Nodes[i] = &model.PathNode{Step: n.Step, EventType: n.EventType, Users: n.Users}
	}
	for i, e := range res.Edges {
		out.Edges[i] = &model.PathEdge{Step: e.Step, From: e.From, To: e.To, Users: e.Users}
	}
	return out
}
