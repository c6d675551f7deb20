package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// journeyEvent is one learner event at a day and minute after the test's
// base Monday.
type journeyEvent struct {
	typ       string
	day, mins int
}

// insertJourney writes one user's events of a course for tenant.
func (h *harness) insertJourney(tenant, user, course string, base time.Time, evs ...journeyEvent) {
	h.t.Helper()
	rows := make([][]any, len(evs))
	for i, e := range evs {
		at := base.Add(time.Duration(e.day)*24*time.Hour + time.Duration(e.mins)*time.Minute)
		rows[i] = []any{tenant, fmt.Sprintf("%s-%s-%d", tenant, user, i), e.typ, user, "", at, at, map[string]any{"course_id": course}}
	}
	require.NoError(h.t, h.db.Insert(context.Background(), store.Insert{Table: "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}, Rows: rows}))
}

// learnerSteps is the learner journey funnel.
var learnerSteps = []any{
	map[string]any{"eventType": "course.enrolled", "label": "Enrolled"},
	map[string]any{"eventType": "lesson.started"},
	map[string]any{"eventType": "lesson.completed"},
	map[string]any{"eventType": "quiz.submitted"},
	map[string]any{"eventType": "course.completed"},
}

// journeyData writes tenant A's learners (course c1: u1 completes, u2 stops
// after a lesson, u3 after starting, u4 after enrolling; course c2: u5
// completes, u6 stops after the quiz) and tenant B's one learner, from the
// Monday five weeks ago; it returns that Monday.
func journeyData(h *harness) time.Time {
	base := timerange.GrainWeek.Truncate(time.Now().UTC().AddDate(0, 0, -35), time.UTC)
	h.insertJourney("tenant-a", "u1", "c1", base, journeyEvent{"course.enrolled", 0, 600}, journeyEvent{"lesson.started", 0, 610},
		journeyEvent{"lesson.completed", 8, 600}, journeyEvent{"quiz.submitted", 9, 600}, journeyEvent{"course.completed", 10, 600},
		journeyEvent{"lesson.completed", 15, 600})
	h.insertJourney("tenant-a", "u2", "c1", base, journeyEvent{"course.enrolled", 1, 600}, journeyEvent{"lesson.started", 1, 610},
		journeyEvent{"lesson.completed", 8, 700})
	h.insertJourney("tenant-a", "u3", "c1", base, journeyEvent{"course.enrolled", 2, 600}, journeyEvent{"lesson.started", 2, 610})
	h.insertJourney("tenant-a", "u4", "c1", base, journeyEvent{"course.enrolled", 3, 600})
	h.insertJourney("tenant-a", "u5", "c2", base, journeyEvent{"course.enrolled", 7, 600}, journeyEvent{"lesson.started", 7, 610},
		journeyEvent{"lesson.completed", 14, 600}, journeyEvent{"quiz.submitted", 15, 600}, journeyEvent{"course.completed", 16, 600})
	h.insertJourney("tenant-a", "u6", "c2", base, journeyEvent{"course.enrolled", 8, 600}, journeyEvent{"lesson.started", 8, 610},
		journeyEvent{"lesson.completed", 8, 620}, journeyEvent{"quiz.submitted", 9, 700})
	h.insertJourney("tenant-b", "b1", "c9", base, journeyEvent{"course.enrolled", 0, 600}, journeyEvent{"lesson.started", 0, 605},
		journeyEvent{"lesson.completed", 0, 610}, journeyEvent{"quiz.submitted", 0, 615}, journeyEvent{"course.completed", 0, 620})
	return base
}

func rangeOf(base time.Time, days int) map[string]any {
	return map[string]any{"from": base.Format(time.RFC3339), "to": base.AddDate(0, 0, days).Format(time.RFC3339)}
}

func TestFunnelOverGraphQL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	base := journeyData(h)
	funnel := map[string]any{"steps": learnerSteps, "conversionWindow": "30d", "timeRange": rangeOf(base, 28),
		"breakdown": map[string]any{"property": "course_id"}}
	viewerA, viewerB := h.token("tenant-a", auth.RoleViewer), h.token("tenant-b", auth.RoleViewer)

	q := `query($in: FunnelInput!) { funnelQuery(input: $in) { steps { step label entered converted dropOff conversionFromFirst }
		breakdowns { value other steps { entered } } } }`
	res := h.query(viewerA, q, map[string]any{"in": funnel})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"steps":[
		{"step":1,"label":"Enrolled","entered":6,"converted":5,"dropOff":0,"conversionFromFirst":1},
		{"step":2,"label":"lesson.started","entered":5,"converted":4,"dropOff":1,"conversionFromFirst":0.8333333333333334},
		{"step":3,"label":"lesson.completed","entered":4,"converted":3,"dropOff":1,"conversionFromFirst":0.6666666666666666},
		{"step":4,"label":"quiz.submitted","entered":3,"converted":2,"dropOff":1,"conversionFromFirst":0.5},
		{"step":5,"label":"course.completed","entered":2,"converted":2,"dropOff":1,"conversionFromFirst":0.3333333333333333}],
		"breakdowns":[
		{"value":"c1","other":false,"steps":[{"entered":4},{"entered":3},{"entered":2},{"entered":1},{"entered":1}]},
		{"value":"c2","other":false,"steps":[{"entered":2},{"entered":2},{"entered":2},{"entered":2},{"entered":1}]}]}`,
		string(res.Data["funnelQuery"]))
	res = h.query(viewerB, q, map[string]any{"in": funnel})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.Contains(t, string(res.Data["funnelQuery"]), `"breakdowns":[{"value":"c9","other":false,"steps":[{"entered":1},{"entered":1},{"entered":1},{"entered":1},{"entered":1}]}]`,
		"tenant B sees its one learner only")

	trend := `query($in: FunnelInput!) { funnelTrend(input: $in, grain: WEEK) { start entered completed } }`
	res = h.query(viewerA, trend, map[string]any{"in": funnel})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	week := func(i int) string { return base.AddDate(0, 0, 7*i).Format(time.RFC3339) }
	assert.JSONEq(t, fmt.Sprintf(`[{"start":%q,"entered":4,"completed":1},{"start":%q,"entered":2,"completed":1}]`, week(0), week(1)),
		string(res.Data["funnelTrend"]), "weeks nobody entered are left out")
	res = h.query(viewerB, trend, map[string]any{"in": funnel})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.Contains(t, string(res.Data["funnelTrend"]), fmt.Sprintf(`{"start":%q,"entered":1,"completed":1}`, week(0)))
	assert.NotContains(t, string(res.Data["funnelTrend"]), `"entered":2`)

	hist := `query($in: FunnelInput!) { funnelTimeToConvert(input: $in, fromStep: 2, toStep: 3, bins: 2) { fromSeconds toSeconds users } }`
	res = h.query(viewerA, hist, map[string]any{"in": funnel})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var bins []struct {
		FromSeconds, ToSeconds float64
		Users                  int64
	}
	require.NoError(t, json.Unmarshal(res.Data["funnelTimeToConvert"], &bins))
	var users int64
	for _, b := range bins {
		users += b.Users
	}
	assert.Equal(t, int64(4), users, "u1, u2, u5 and u6 went from a started to a completed lesson: %s", res.Data["funnelTimeToConvert"])
	res = h.query(viewerB, hist, map[string]any{"in": funnel})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `[{"fromSeconds":300,"toSeconds":300.001,"users":1},{"fromSeconds":300.001,"toSeconds":300.002,"users":0}]`, string(res.Data["funnelTimeToConvert"]))

	actors := `query($in: FunnelInput!, $step: Int!, $dropped: Boolean, $v: String, $after: String) {
		funnelActors(input: $in, step: $step, dropped: $dropped, breakdownValue: $v, first: 2, after: $after) { userIds hasNextPage endCursor } }`
	res = h.query(viewerA, actors, map[string]any{"in": funnel, "step": 2})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var page struct {
		UserIDs     []string `json:"userIds"`
		HasNextPage bool
		EndCursor   string
	}
	require.NoError(t, json.Unmarshal(res.Data["funnelActors"], &page))
	assert.Equal(t, []string{"u1", "u2"}, page.UserIDs)
	require.True(t, page.HasNextPage)
	res = h.query(viewerA, actors, map[string]any{"in": funnel, "step": 2, "after": page.EndCursor})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	require.NoError(t, json.Unmarshal(res.Data["funnelActors"], &page))
	assert.Equal(t, []string{"u3", "u5"}, page.UserIDs)
	assert.True(t, page.HasNextPage, "u6 is on the third page")
	res = h.query(viewerA, actors, map[string]any{"in": funnel, "step": 4, "dropped": true, "v": "c2"})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	require.NoError(t, json.Unmarshal(res.Data["funnelActors"], &page))
	assert.Equal(t, []string{"u6"}, page.UserIDs, "u6 took the c2 quiz and did not complete the course")
	res = h.query(viewerB, actors, map[string]any{"in": funnel, "step": 1})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	require.NoError(t, json.Unmarshal(res.Data["funnelActors"], &page))
	assert.Equal(t, []string{"b1"}, page.UserIDs)
}

func TestSaveFunnelActorsAsCohort(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	base := journeyData(h)
	funnel := map[string]any{"steps": learnerSteps, "conversionWindow": "30d", "timeRange": rangeOf(base, 28)}
	save := `mutation($in: FunnelActorsCohortInput!) { saveFunnelActorsAsCohort(input: $in) { id name staticUserCount size members { userIds } } }`
	in := map[string]any{"in": map[string]any{"funnel": funnel, "step": 1, "dropped": true, "name": "Enrolled, never started"}}

	res := h.query(h.token("tenant-a", auth.RoleViewer), save, in)
	assert.Equal(t, "FORBIDDEN", res.code(), "saving defines a cohort: admin, like createCohort")

	res = h.query(h.token("tenant-a", auth.RoleAdmin), save, in)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var c struct {
		ID              string
		Name            string
		StaticUserCount int
		Size            int64
		Members         struct {
			UserIDs []string `json:"userIds"`
		}
	}
	require.NoError(t, json.Unmarshal(res.Data["saveFunnelActorsAsCohort"], &c))
	assert.Equal(t, "Enrolled, never started", c.Name)
	assert.Equal(t, 1, c.StaticUserCount)
	assert.Equal(t, int64(1), c.Size, "evaluated at once")
	assert.Equal(t, []string{"u4"}, c.Members.UserIDs)

	// The saved cohort narrows the funnel at once.
	funnel["cohorts"] = []any{c.ID}
	q := `query($in: FunnelInput!) { funnelQuery(input: $in) { steps { entered } } }`
	res = h.query(h.token("tenant-a", auth.RoleViewer), q, map[string]any{"in": funnel})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"steps":[{"entered":1},{"entered":0},{"entered":0},{"entered":0},{"entered":0}]}`, string(res.Data["funnelQuery"]))

	// Tenant B can neither use tenant A's cohort nor save tenant A's users.
	res = h.query(h.token("tenant-b", auth.RoleViewer), q, map[string]any{"in": funnel})
	require.Equal(t, "NOT_FOUND", res.code(), "tenant A's cohort: %s", res.Data["funnelQuery"])
	assert.Equal(t, "input.cohorts[0]", res.Errors[0].Extensions["field"])
	paths := `query($in: PathsInput!) { pathsQuery(input: $in) { nodes { users } } }`
	res = h.query(h.token("tenant-b", auth.RoleViewer), paths, map[string]any{"in": map[string]any{"timeRange": rangeOf(base, 28), "cohorts": []any{c.ID}}})
	require.Equal(t, "NOT_FOUND", res.code())
	res = h.query(h.token("tenant-a", auth.RoleViewer), paths, map[string]any{"in": map[string]any{"timeRange": rangeOf(base, 28), "cohorts": []any{c.ID}}})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	delete(funnel, "cohorts")
	in["in"].(map[string]any)["dropped"] = false
	res = h.query(h.token("tenant-b", auth.RoleAdmin), save, in)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	require.NoError(t, json.Unmarshal(res.Data["saveFunnelActorsAsCohort"], &c))
	assert.Equal(t, []string{"b1"}, c.Members.UserIDs)

	res = h.query(h.token("tenant-a", auth.RoleAdmin), save, map[string]any{"in": map[string]any{"funnel": funnel, "step": 5, "dropped": true, "name": "x"}})
	require.Equal(t, "BAD_USER_INPUT", res.code())
	assert.Equal(t, "input.dropped", res.Errors[0].Extensions["field"])
}

func TestRetentionOverGraphQL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	base := journeyData(h)
	q := `query($in: RetentionInput!) { retentionQuery(input: $in) { cohorts { start size cells { offset users } } mean { offset users rate } } }`
	in := map[string]any{"startEvent": map[string]any{"eventType": "course.enrolled"}, "returnEvent": map[string]any{"eventType": "lesson.completed"},
		"period": "WEEK", "periods": 2, "timeRange": rangeOf(base, 21)}
	res := h.query(h.token("tenant-a", auth.RoleViewer), q, map[string]any{"in": in})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	// Week 0: u1–u4 enrolled; u1 and u2 completed a lesson in week 1, u1 again
	// in week 2. Week 1: u5 and u6 enrolled; u5 completed one in week 2. Week
	// 2 had no enrolments; cells stop where the range ends.
	week := func(i int) string { return base.AddDate(0, 0, 7*i).Format(time.RFC3339) }
	assert.JSONEq(t, fmt.Sprintf(`{"cohorts":[
		{"start":%q,"size":4,"cells":[{"offset":0,"users":4},{"offset":1,"users":2},{"offset":2,"users":1}]},
		{"start":%q,"size":2,"cells":[{"offset":0,"users":2},{"offset":1,"users":1}]},
		{"start":%q,"size":0,"cells":[{"offset":0,"users":0}]}],
		"mean":[{"offset":0,"users":6,"rate":1},{"offset":1,"users":3,"rate":0.5},{"offset":2,"users":1,"rate":0.25}]}`, week(0), week(1), week(2)),
		string(res.Data["retentionQuery"]))
	var got struct {
		Cohorts []struct{ Size int64 }
	}
	res = h.query(h.token("tenant-b", auth.RoleViewer), q, map[string]any{"in": in})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	require.NoError(t, json.Unmarshal(res.Data["retentionQuery"], &got))
	for _, c := range got.Cohorts {
		assert.LessOrEqual(t, c.Size, int64(1), "tenant B has one learner: %s", res.Data["retentionQuery"])
	}
}

func TestPathsOverGraphQL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	base := journeyData(h)
	q := `query($in: PathsInput!) { pathsQuery(input: $in) { nodes { step eventType users } edges { step from to users } } }`
	in := map[string]any{"startEvent": map[string]any{"eventType": "course.enrolled"}, "steps": 3, "timeRange": rangeOf(base, 28)}
	res := h.query(h.token("tenant-a", auth.RoleViewer), q, map[string]any{"in": in})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"nodes":[{"step":1,"eventType":"course.enrolled","users":6},{"step":2,"eventType":"lesson.started","users":5},
		{"step":3,"eventType":"lesson.completed","users":1}],
		"edges":[{"step":1,"from":"course.enrolled","to":"lesson.started","users":5},{"step":2,"from":"lesson.started","to":"lesson.completed","users":1}]}`,
		string(res.Data["pathsQuery"]))

	res = h.query(h.token("tenant-b", auth.RoleViewer), q, map[string]any{"in": in})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"nodes":[{"step":1,"eventType":"course.enrolled","users":1},{"step":2,"eventType":"lesson.started","users":1},
		{"step":3,"eventType":"lesson.completed","users":1}],
		"edges":[{"step":1,"from":"course.enrolled","to":"lesson.started","users":1},{"step":2,"from":"lesson.started","to":"lesson.completed","users":1}]}`,
		string(res.Data["pathsQuery"]))
}

func TestJourneysBadInputNamesTheField(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	base := journeyData(h)
	viewer := h.token("tenant-a", auth.RoleViewer)
	funnel := func(change func(map[string]any)) map[string]any {
		in := map[string]any{"steps": learnerSteps, "conversionWindow": "30d", "timeRange": rangeOf(base, 28)}
		change(in)
		return in
	}
	fq := `query($in: FunnelInput!) { funnelQuery(input: $in) { steps { entered } } }`
	tooMany := make([]any, 21)
	for i := range tooMany {
		tooMany[i] = map[string]any{"eventType": "course.enrolled"}
	}
	retention := map[string]any{"startEvent": map[string]any{"eventType": "course.enrolled"}, "returnEvent": map[string]any{"eventType": "lesson.completed"},
		"period": "WEEK", "periods": 53, "timeRange": rangeOf(base, 21)}
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		field       string
	}{
		{"window zero", fq, map[string]any{"in": funnel(func(m map[string]any) { m["conversionWindow"] = "0d" })}, "input.conversionWindow"},
		{"window not a window", fq, map[string]any{"in": funnel(func(m map[string]any) { m["conversionWindow"] = "soon" })}, "input.conversionWindow"},
		{"unknown event type", fq, map[string]any{"in": funnel(func(m map[string]any) {
			m["steps"] = []any{learnerSteps[0], map[string]any{"eventType": "lesson.startd"}}
		})}, "input.steps[1].eventType"},
		{"21 steps", fq, map[string]any{"in": funnel(func(m map[string]any) { m["steps"] = tooMany })}, "input.steps"},
		{"bad filter value", fq, map[string]any{"in": funnel(func(m map[string]any) {
			m["steps"] = []any{map[string]any{"eventType": "course.enrolled", "filters": []any{map[string]any{"property": "score", "op": "GT", "values": []any{"high"}}}}, learnerSteps[1]}
		})}, "input.steps[0].filters[0].values"},
		{"trend grain", `query($in: FunnelInput!) { funnelTrend(input: $in, grain: HOUR) { entered } }`, map[string]any{"in": funnel(func(map[string]any) {})}, "grain"},
		{"histogram steps", `query($in: FunnelInput!) { funnelTimeToConvert(input: $in, fromStep: 3, toStep: 2) { users } }`, map[string]any{"in": funnel(func(map[string]any) {})}, "fromStep"},
		{"actors step", `query($in: FunnelInput!) { funnelActors(input: $in, step: 9) { userIds } }`, map[string]any{"in": funnel(func(map[string]any) {})}, "step"},
		{"periods > 52", `query($in: RetentionInput!) { retentionQuery(input: $in) { mean { rate } } }`, map[string]any{"in": retention}, "input.periods"},
		{"paths steps", `query($in: PathsInput!) { pathsQuery(input: $in) { nodes { users } } }`,
			map[string]any{"in": map[string]any{"startEvent": map[string]any{"eventType": "course.enrolled"}, "steps": 11, "timeRange": rangeOf(base, 28)}}, "input.steps"},
		{"paths filter property", `query($in: PathsInput!) { pathsQuery(input: $in) { nodes { users } } }`,
			map[string]any{"in": map[string]any{"endEvent": map[string]any{"eventType": "course.completed", "filters": []any{map[string]any{"property": "Course", "op": "EQ", "values": []any{"c1"}}}}, "timeRange": rangeOf(base, 28)}}, "input.endEvent.filters[0].property"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.query(viewer, tc.query, tc.vars)
			require.Equal(t, "BAD_USER_INPUT", res.code(), "%+v", res)
			assert.Equal(t, tc.field, res.Errors[0].Extensions["field"], res.Errors[0].Message)
		})
	}
}
