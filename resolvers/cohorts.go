package resolvers

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/learnhub/analytics-service/cohorts"
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/platform/errs"
)

// toCohort maps CohortInput; the criteria JSON must match the tree exactly
// (unknown keys are refused, so a typo is an error, not a silent no-op).
func toCohort(in model.CohortInput) (cohorts.Cohort, error) {
	c := cohorts.Cohort{Name: in.Name, Description: deref(in.Description), Active: deref(in.Active), Static: in.StaticUsers}
	if in.Criteria != nil {
		raw, err := json.Marshal(in.Criteria)
		if err != nil {
			return c, errs.Invalid("resolvers.cohort", "input.criteria", "criteria must be a JSON object")
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var crit cohorts.Criteria
		if err := dec.Decode(&crit); err != nil {
			return c, errs.Invalid("resolvers.cohort", "input.criteria", "criteria: "+err.Error()+
				`; allowed keys: and, or, not, performed / didNotPerform {type, where, filters[{property, op, value}], op, count, within, between{from, to}}, `+
				`firstSeen / lastSeen {before, after}, property {property, op, value}, metric {key, op, value, within}, inCohort`)
		}
		c.Criteria = &crit
	}
	return c, nil
}

func toModelCohort(c *cohorts.Cohort) *model.Cohort {
	out := &model.Cohort{ID: c.ID, Name: c.Name, Description: c.Description, Active: c.Active, StaticUserCount: len(c.Static),
		Version: int(c.Version), UpdatedAt: c.UpdatedAt, UpdatedBy: c.UpdatedBy}
	if c.Criteria != nil {
		var tree any
		raw, _ := json.Marshal(c.Criteria)
		_ = json.Unmarshal(raw, &tree)
		out.Criteria = tree
	}
	return out
}

func toModelEvaluation(e *cohorts.Evaluation) *model.CohortEvaluation {
	return &model.CohortEvaluation{Version: int64(e.Version), ScheduledFor: e.ScheduledFor, EvaluatedAt: e.EvaluatedAt,
		Size: int64(e.Size), Entered: int64(e.Entered), Exited: int64(e.Exited), Error: ptrIf(e.Error)}
}

// lastGood is the newest successful evaluation, or nil.
func (r *Resolver) lastGood(ctx context.Context, id string) (*cohorts.Evaluation, error) {
	hist, err := r.CohortService.History(ctx, id, 100)
	if err != nil {
		return nil, err
	}
	for _, e := range hist {
		if e.Error == "" {
			return e, nil
		}
	}
	return nil, nil
}

// userPage maps a page of user ids (members, changes, funnel actors) onto
// CohortMembers; position is the domain's position of a user id.
func userPage(ctx context.Context, ids []string, more bool, after *string, position func(string) string) (*model.CohortMembers, error) {
	c, err := connect(ctx, ids, more, after, position, infallible(func(id string) string { return id }),
		func(cur, id string) *model.UserIDEdge { return &model.UserIDEdge{Cursor: cur, Node: id} })
	if err != nil {
		return nil, err
	}
	return &model.CohortMembers{Edges: c.Edges, Nodes: c.Nodes, PageInfo: c.PageInfo,
		UserIds: c.Nodes, HasNextPage: c.PageInfo.HasNextPage, EndCursor: c.PageInfo.EndCursor}, nil
}

// memberPage pages a cohort's members or changes: list reads the page after
// a user id (the position of these listings is the user id itself).
func memberPage(ctx context.Context, op string, after *string, list func(pos string) ([]string, bool, error)) (*model.CohortMembers, error) {
	pos, err := openAfter(ctx, op, after)
	if err != nil {
		return nil, err
	}
	ids, more, err := list(pos)
	if err != nil {
		return nil, err
	}
	return userPage(ctx, ids, more, after, func(id string) string { return id })
}
