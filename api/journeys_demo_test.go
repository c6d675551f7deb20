package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/demo/demotest"
	"github.com/learnhub/analytics-service/platform/auth"
)

// demoFunnel is the learner-journey preset's funnel over a window.
func demoFunnel(from, to string) map[string]any {
	steps := []any{}
	for _, typ := range []string{"course.enrolled", "lesson.started", "lesson.completed", "quiz.submitted", "course.completed"} {
		steps = append(steps, map[string]any{"eventType": typ})
	}
	return map[string]any{"steps": steps, "conversionWindow": "30d", "timeRange": map[string]any{"from": from, "to": to},
		"breakdown": map[string]any{"property": "course_id", "topN": 5}}
}

type demoFunnelResult struct {
	Steps []struct {
		Label   string
		Entered int64
	}
	Breakdowns []struct{ Value string }
}

// TestLearnerJourneyOnDemoData is the acceptance path of the journeys on
// the demo data: the learner journey funnel by course, the weekly
// retention triangle and the paths after course.enrolled over GraphQL; the
// learner-journey dashboard's widgets answering the same; the funnel as an
// export file; and acme-corp seeing none of demo's.
func TestLearnerJourneyOnDemoData(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	end := time.Now().UTC().Truncate(24 * time.Hour)
	demotest.Seed(t, h.db, demo.Options{Learners: 600, Days: 120, End: end})

	// The dashboard, installed on first open, renders the three journeys.
	const dash = `query { dashboard(idOrSlug: "learner-journey") { title widgets { title kind } render { from to widgets {
		error { code message } funnel { steps { label entered } breakdowns { value } }
		retention { cohorts { start size cells { offset users rate } } mean { offset rate } }
		paths { nodes { step eventType users } edges { step from to users } } } } } }`
	var render struct {
		Dashboard struct {
			Title   string
			Widgets []struct{ Title, Kind string }
			Render  struct {
				From, To string
				Widgets  []struct {
					Error     *struct{ Code, Message string }
					Funnel    *demoFunnelResult
					Retention *struct {
						Cohorts []struct{ Size int64 }
						Mean    []struct{ Rate float64 }
					}
					Paths *struct {
						Nodes []struct {
							Step      int
							EventType string
						}
						Edges []struct{ From, To string }
					}
				}
			}
		}
	}
	funnels := map[string]*demoFunnelResult{}
	for _, tenant := range []string{"demo", "acme-corp"} {
		viewer := h.token(tenant, auth.RoleViewer)
		res := h.query(viewer, dash, nil)
		require.Empty(t, res.Errors, "%+v", res.Errors)
		require.NoError(t, json.Unmarshal(res.Data["dashboard"], &render.Dashboard))
		d := render.Dashboard
		require.Equal(t, []struct{ Title, Kind string }{{"Learner journey funnel", "FUNNEL"}, {"Weekly retention after enrolling", "RETENTION"},
			{"What learners do after enrolling", "PATHS"}}, d.Widgets)
		for i, w := range d.Render.Widgets {
			require.Nil(t, w.Error, "%s: %+v", d.Widgets[i].Title, w.Error)
		}
		fw, rw, pw := d.Render.Widgets[0].Funnel, d.Render.Widgets[1].Retention, d.Render.Widgets[2].Paths
		require.NotNil(t, fw)
		require.Len(t, fw.Steps, 5)
		assert.Equal(t, "Enrolled", fw.Steps[0].Label)
		assert.Positive(t, fw.Steps[4].Entered, "some learners complete")
		for k := 1; k < 5; k++ {
			assert.LessOrEqual(t, fw.Steps[k].Entered, fw.Steps[k-1].Entered)
		}
		require.NotNil(t, rw)
		assert.GreaterOrEqual(t, len(rw.Cohorts), 12, "a weekly triangle over 90 days")
		assert.Len(t, rw.Mean, 9, "week 0 and 8 later weeks")
		require.NotNil(t, pw)
		require.NotEmpty(t, pw.Edges)
		assert.Equal(t, "course.enrolled", pw.Nodes[0].EventType)

		// funnelQuery over the render's window answers the same; its
		// breakdown values are the tenant's own courses.
		res = h.query(viewer, `query($in: FunnelInput!) { funnelQuery(input: $in) { steps { label entered } breakdowns { value } } }`,
			map[string]any{"in": demoFunnel(d.Render.From, d.Render.To)})
		require.Empty(t, res.Errors, "%+v", res.Errors)
		var fq demoFunnelResult
		require.NoError(t, json.Unmarshal(res.Data["funnelQuery"], &fq))
		for k := range fq.Steps {
			assert.Equal(t, fw.Steps[k].Entered, fq.Steps[k].Entered, "%s step %d", tenant, k+1)
		}
		require.NotEmpty(t, fq.Breakdowns)
		for _, b := range fq.Breakdowns {
			assert.True(t, b.Value == "$other" || strings.HasPrefix(b.Value, tenant+"-course-"), "%s sees %q", tenant, b.Value)
		}
		funnels[tenant] = &fq

		// The weekly triangle and the paths after course.enrolled.
		res = h.query(viewer, `query($in: RetentionInput!) { retentionQuery(input: $in) { cohorts { size } mean { offset rate } } }`,
			map[string]any{"in": map[string]any{"startEvent": map[string]any{"eventType": "course.enrolled"},
				"returnEvent": map[string]any{"eventType": "lesson.completed"}, "period": "WEEK", "periods": 8,
				"timeRange": map[string]any{"from": d.Render.From, "to": d.Render.To}}})
		require.Empty(t, res.Errors, "%+v", res.Errors)
		assert.Contains(t, string(res.Data["retentionQuery"]), `"offset":8`)
		res = h.query(viewer, `query($in: PathsInput!) { pathsQuery(input: $in) { edges { step from to users } } }`,
			map[string]any{"in": map[string]any{"startEvent": map[string]any{"eventType": "course.enrolled"}, "steps": 4, "maxEdges": 20,
				"timeRange": map[string]any{"from": d.Render.From, "to": d.Render.To}}})
		require.Empty(t, res.Errors, "%+v", res.Errors)
		assert.Contains(t, string(res.Data["pathsQuery"]), `"step":1,"from":"course.enrolled"`)

		// What learners did after submitting a quiz and not completing the course.
		after := demoFunnel(d.Render.From, d.Render.To)
		delete(after, "timeRange")
		delete(after, "breakdown")
		res = h.query(viewer, `query($in: PathsInput!) { pathsQuery(input: $in) { nodes { step eventType users } edges { step from to users } } }`,
			map[string]any{"in": map[string]any{"steps": 3, "timeRange": map[string]any{"from": d.Render.From, "to": d.Render.To},
				"afterFunnel": map[string]any{"funnel": after, "step": 4, "dropped": true}}})
		require.Empty(t, res.Errors, "%+v", res.Errors)
		var dropped struct {
			Nodes []struct {
				Step      int
				EventType string
				Users     int64
			}
		}
		require.NoError(t, json.Unmarshal(res.Data["pathsQuery"], &dropped))
		require.NotEmpty(t, dropped.Nodes)
		assert.Equal(t, 1, dropped.Nodes[0].Step)
		assert.Equal(t, "quiz.submitted", dropped.Nodes[0].EventType)
		dropOff := fq.Steps[3].Entered - fq.Steps[4].Entered
		assert.LessOrEqual(t, dropped.Nodes[0].Users, dropOff, "only the users who dropped after the quiz")
		res = h.query(viewer, `query($in: PathsInput!) { pathsQuery(input: $in) { nodes { step } } }`,
			map[string]any{"in": map[string]any{"timeRange": map[string]any{"from": d.Render.From, "to": d.Render.To},
				"afterFunnel": map[string]any{"funnel": after, "step": 5, "dropped": true}}})
		assert.Equal(t, "BAD_USER_INPUT", res.code())
		require.NotEmpty(t, res.Errors)
		assert.Equal(t, "input.afterFunnel.dropped", res.Errors[0].Extensions["field"])

		// The funnel as a CSV export: the same numbers, the tenant's courses only.
		res = h.query(h.token(tenant, auth.RoleAnalyst), `mutation($in: ExportInput!) { exportQuery(input: $in) { id source } }`,
			map[string]any{"in": map[string]any{"funnel": demoFunnel(d.Render.From, d.Render.To), "format": "CSV"}})
		require.Empty(t, res.Errors, "%+v", res.Errors)
		var job struct{ ID, Source string }
		require.NoError(t, json.Unmarshal(res.Data["exportQuery"], &job))
		assert.Equal(t, "FUNNEL", job.Source)
		file := h.runExport(tenant, job.ID)
		recs, err := csv.NewReader(bytes.NewReader(file)).ReadAll()
		require.NoError(t, err)
		for k, st := range fq.Steps {
			assert.Equal(t, strconv.FormatInt(st.Entered, 10), recs[1+k][4], "%s step %d in the file", tenant, k+1)
		}
		other := map[string]string{"demo": "acme-corp", "acme-corp": "demo"}[tenant]
		assert.NotContains(t, string(file), other+"-course-")
		assert.Contains(t, string(file), tenant+"-course-")
	}
	assert.NotEqual(t, funnels["demo"].Steps[0].Entered, funnels["acme-corp"].Steps[0].Entered)

	// A journey widget with a typo is refused on save, naming the field.
	admin := h.token("demo", auth.RoleAdmin)
	res := h.query(admin, `mutation { createDashboard(input: {slug: "j", title: "J"}) { id version } }`, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal(res.Data["createDashboard"], &created))
	in := demoFunnel(render.Dashboard.Render.From, render.Dashboard.Render.To)
	in["steps"].([]any)[1] = map[string]any{"eventType": "lesson.begun"}
	delete(in, "timeRange")
	res = h.query(admin, `mutation($id: ID!, $f: FunnelInput!) { addWidget(dashboardId: $id, expectedVersion: 1, widget: {title: "F", kind: FUNNEL, funnel: $f}) { version } }`,
		map[string]any{"id": created.ID, "f": in})
	assert.Equal(t, "BAD_USER_INPUT", res.code())
	require.NotEmpty(t, res.Errors)
	assert.Equal(t, "widget.funnel.steps[1].eventType", res.Errors[0].Extensions["field"])
}
