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

// userPage maps a page of user ids (members or changes) onto CohortMembers.
func userPage(ids []string, more bool, err error) (*model.CohortMembers, error) {
	if err != nil {
		return nil, err
	}
	out := &model.CohortMembers{UserIds: ids, HasNextPage: more}
	if len(ids) > 0 {
		out.EndCursor = &ids[len(ids)-1]
	}
	return out, nil
}
