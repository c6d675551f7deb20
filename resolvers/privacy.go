package resolvers

import (
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/privacy"
)

// monthLayout is how retention months read in the API (YYYY-MM).
const monthLayout = "2006-01"

// erasureStatuses maps the saga's steps to the schema's enum.
var erasureStatuses = map[privacy.Step]model.ErasureStatus{
	privacy.StepRequested:  model.ErasureStatusRequested,
	privacy.StepHotStarted: model.ErasureStatusHotStarted,
	privacy.StepHotDone:    model.ErasureStatusHotDone,
	privacy.StepColdDone:   model.ErasureStatusColdDone,
	privacy.StepCompleted:  model.ErasureStatusCompleted,
}

// toModelErasure maps an erasure request's state.
func toModelErasure(st privacy.Status) *model.ErasureRequest {
	status, ok := erasureStatuses[st.Step]
	if !ok {
		status = model.ErasureStatusRequested
	}
	return &model.ErasureRequest{
		ID: st.RequestID, UserHash: st.UserHash, Status: status, Progress: st.Step.Progress(),
		RequestedAt: st.RequestedAt, UpdatedAt: st.UpdatedAt, Error: ptrIf(st.Error),
		Hot: &model.ErasureHotCounts{Events: int64(st.Hot.Events), DeadLetters: int64(st.Hot.DeadLetters),
			CohortUsers: int64(st.Hot.CohortUsers), RollupDays: int64(st.Hot.RollupDays)},
		Cold: &model.ErasureColdCounts{Objects: int64(st.Cold.Objects), Rows: int64(st.Cold.Rows)},
	}
}

// toModelRetention maps a tenant's retention report; months and expired
// objects are shown as YYYY-MM, never as storage keys.
func toModelRetention(rep privacy.Report) *model.RetentionReport {
	out := &model.RetentionReport{DryRun: rep.DryRun, Queued: rep.Queued, HotHorizon: rep.Horizon, ColdHorizon: rep.ColdHorizon,
		Months: []*model.RetentionMonth{}, ExpiredMonths: []string{}, ColdMonths: []string{}}
	for _, m := range rep.Months {
		var rows uint64
		for _, t := range m.Tenants {
			rows += t.Rows
		}
		out.Months = append(out.Months, &model.RetentionMonth{Month: m.Month().Format(monthLayout), Rows: int64(rows)})
	}
	for _, key := range rep.Expired {
		if m, ok := privacy.ColdMonth(key); ok {
			out.ExpiredMonths = append(out.ExpiredMonths, m.Format(monthLayout))
		}
	}
	for _, m := range rep.ColdMonths {
		out.ColdMonths = append(out.ColdMonths, m.Format(monthLayout))
	}
	return out
}
