package api_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
)

// connPage is one page of any connection of the schema.
type connPage struct {
	Edges []struct {
		Cursor string
		Node   struct{ ID string }
	}
	Nodes    []struct{ ID string }
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
	TotalCount *int
}

// page asks one page of the connection field of tenant's token.
func (h *harness) page(token, field, args string, after *string) (connPage, gqlResponse) {
	h.t.Helper()
	id := "id" // what tells items apart; dead letters have no id
	if field == "deadLettersConnection" {
		id = "id: payload"
	}
	q := fmt.Sprintf(`query($after: String) { c: %s(%s after: $after) { edges { cursor node { %s } } nodes { %s }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor } %s } }`, field, args, id, id,
		map[bool]string{true: "totalCount"}[field != "dashboards" && field != "exportJobs" && field != "insights" && field != "reports" && field != "erasureRequests"])
	res := h.query(token, q, map[string]any{"after": after})
	var p connPage
	if len(res.Errors) == 0 {
		require.NoError(h.t, json.Unmarshal(res.Data["c"], &p))
	}
	return p, res
}

// checkPage asserts what every page of every connection shares: nodes are
// the edges' nodes, the PageInfo cursors are the first and last edge's.
func checkPage(t *testing.T, name string, p connPage, after *string) {
	t.Helper()
	require.Len(t, p.Nodes, len(p.Edges), name)
	for i, e := range p.Edges {
		assert.Equal(t, e.Node.ID, p.Nodes[i].ID, "%s: nodes lists the edges' nodes", name)
		assert.NotEmpty(t, e.Cursor, name)
	}
	assert.Equal(t, after != nil, p.PageInfo.HasPreviousPage, "%s: hasPreviousPage", name)
	if len(p.Edges) == 0 {
		assert.Nil(t, p.PageInfo.StartCursor, name)
		assert.Nil(t, p.PageInfo.EndCursor, name)
		return
	}
	assert.Equal(t, p.Edges[0].Cursor, *p.PageInfo.StartCursor, "%s: startCursor", name)
	assert.Equal(t, p.Edges[len(p.Edges)-1].Cursor, *p.PageInfo.EndCursor, "%s: endCursor", name)
}

// TestEveryConnectionPagesAlikeWithTenantBoundCursors walks every list
// field of the schema page by page as tenant A, and hands A's cursors to
// tenant B: the same shape everywhere, and a cursor never crosses tenants.
func TestEveryConnectionPagesAlikeWithTenantBoundCursors(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	adminA, adminB := h.token("tenant-a", auth.RoleAdmin), h.token("tenant-b", auth.RoleAdmin)
	created := map[string]bool{}
	for i := range 3 {
		res := h.query(adminA, `mutation($in: CohortInput!) { createCohort(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"name": fmt.Sprintf("Cohort %d", i), "staticUsers": []string{"u1"}}})
		require.Empty(t, res.Errors, "%+v", res.Errors)
		var c struct{ ID string }
		require.NoError(t, json.Unmarshal(res.Data["createCohort"], &c))
		created[c.ID] = true
	}
	res := h.query(adminB, `mutation { createCohort(input: {name: "B's", staticUsers: ["b1"]}) { id } }`, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	for i := range 2 {
		h.createKey("tenant-a", fmt.Sprintf("key %d", i), "INGEST")
		res = h.query(adminA, fmt.Sprintf(`mutation { createDashboard(input: {slug: "d%d", title: "D%d"}) { id } }`, i, i), nil)
		require.Empty(t, res.Errors, "%+v", res.Errors)
	}

	for _, tc := range []struct {
		field, args string
		minItems    int // tenant A has at least this many
	}{
		{"cohortsConnection", "first: 2,", 3},
		{"metrics", "first: 2,", 3},
		{"dashboards", "first: 1,", 2},
		{"alertRulesConnection", "first: 2,", 3},
		{"monitorsConnection", "first: 2,", 3},
		{"apiKeysConnection", "first: 1,", 2},
		{"deadLettersConnection", "first: 1,", 0},
		{"exportJobs", "first: 1,", 0},
		{"insights", "first: 1,", 0},
		{"reports", "first: 1,", 0},
		{"erasureRequests", "first: 1,", 0},
	} {
		t.Run(tc.field, func(t *testing.T) {
			seen := map[string]bool{}
			var after *string
			pages := 0
			for {
				p, res := h.page(adminA, tc.field, tc.args, after)
				require.Empty(t, res.Errors, "%+v", res.Errors)
				checkPage(t, tc.field, p, after)
				for _, n := range p.Nodes {
					assert.False(t, seen[n.ID], "%s: %s on two pages", tc.field, n.ID)
					seen[n.ID] = true
				}
				if p.TotalCount != nil {
					assert.GreaterOrEqual(t, *p.TotalCount, tc.minItems, tc.field)
				}
				if pages++; !p.PageInfo.HasNextPage || pages > 50 {
					if p.TotalCount != nil {
						assert.Equal(t, *p.TotalCount, len(seen), "%s: totalCount counts every page", tc.field)
					}
					break
				}
				after = p.PageInfo.EndCursor
				require.NotNil(t, after, "%s: a page followed by another has an endCursor", tc.field)

				_, res = h.page(adminB, tc.field, tc.args, after)
				assert.Equal(t, "BAD_USER_INPUT", res.code(), "%s: tenant B pages with tenant A's cursor", tc.field)
				if assert.NotEmpty(t, res.Errors) {
					assert.Equal(t, "after", res.Errors[0].Extensions["field"])
					assert.Contains(t, res.Errors[0].Message, "another tenant")
				}
				assert.Contains(t, []string{"", "null"}, string(res.Data["c"]), "nothing of a page for B")
			}
			assert.GreaterOrEqual(t, len(seen), tc.minItems, "%s: every item of tenant A, once", tc.field)
			if tc.field == "cohortsConnection" {
				for id := range created {
					assert.True(t, seen[id], "cohort %s listed", id)
				}
				assert.Len(t, seen, 3, "B's cohort is not A's")
			}
		})
	}

	_, res = h.page(adminA, "cohortsConnection", "first: 1,", ptr("Zm9v"))
	assert.Equal(t, "BAD_USER_INPUT", res.code(), "a made-up cursor")
	_, res = h.page(adminA, "cohortsConnection", "first: 1000,", nil)
	assert.Equal(t, "BAD_USER_INPUT", res.code(), "first above 200")
}

// TestCohortMembersAndFunnelActorsPageAsConnections: the user-id pages keep
// their deprecated fields and gain edges, nodes and pageInfo, with the same
// tenant-bound cursors.
func TestCohortMembersPageAsConnections(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	adminA := h.token("tenant-a", auth.RoleAdmin)
	res := h.query(adminA, `mutation { createCohort(input: {name: "S", staticUsers: ["u1", "u2", "u3"]}) { id } }`, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	var c struct{ ID string }
	require.NoError(t, json.Unmarshal(res.Data["createCohort"], &c))
	res = h.query(h.token("tenant-a", auth.RoleAnalyst), `mutation($id: ID!) { evaluateCohort(id: $id) { size } }`, map[string]any{"id": c.ID})
	require.Empty(t, res.Errors, "%+v", res.Errors)

	q := `query($id: ID!, $after: String) { cohort(id: $id) { members(first: 2, after: $after) {
		edges { cursor node } nodes userIds hasNextPage endCursor pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`
	type members struct {
		Edges []struct {
			Cursor string
			Node   string
		}
		Nodes, UserIDs []string
		HasNextPage    bool
		EndCursor      *string
		PageInfo       struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       *string
		}
	}
	read := func(res gqlResponse) members {
		t.Helper()
		require.Empty(t, res.Errors, "%+v", res.Errors)
		var out struct{ Members members }
		require.NoError(t, json.Unmarshal(res.Data["cohort"], &out))
		return out.Members
	}
	p := read(h.query(adminA, q, map[string]any{"id": c.ID}))
	assert.Equal(t, []string{"u1", "u2"}, p.Nodes)
	assert.Equal(t, p.Nodes, p.UserIDs, "the deprecated userIds still answer")
	assert.True(t, p.PageInfo.HasNextPage)
	assert.Equal(t, p.HasNextPage, p.PageInfo.HasNextPage)
	assert.Equal(t, p.EndCursor, p.PageInfo.EndCursor)
	assert.Equal(t, p.Edges[1].Cursor, *p.PageInfo.EndCursor)
	assert.NotEqual(t, "u2", *p.PageInfo.EndCursor, "opaque: not the user id")

	p2 := read(h.query(adminA, q, map[string]any{"id": c.ID, "after": p.PageInfo.EndCursor}))
	assert.Equal(t, []string{"u3"}, p2.Nodes)
	assert.False(t, p2.PageInfo.HasNextPage)
	assert.True(t, p2.PageInfo.HasPreviousPage)

	res = h.query(adminA, q, map[string]any{"id": c.ID, "after": "u2"})
	assert.Equal(t, "BAD_USER_INPUT", res.code(), "the old raw user id cursor is not a cursor")
}

// TestNodeResolvesInTheCallersTenantOnly: node(id) finds each Node type of
// tenant A for A, and nothing for tenant B asking A's ids.
func TestNodeResolvesInTheCallersTenantOnly(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.insertEvents("tenant-a", event{"a1", "user.login", time.Now().UTC().Add(-time.Hour)})
	adminA, analystA := h.token("tenant-a", auth.RoleAdmin), h.token("tenant-a", auth.RoleAnalyst)
	viewerA, adminB := h.token("tenant-a", auth.RoleViewer), h.token("tenant-b", auth.RoleAdmin)
	ids := map[string]string{}
	mutate := func(token, q, field string) {
		t.Helper()
		res := h.query(token, q, nil)
		require.Empty(t, res.Errors, "%+v", res.Errors)
		var v struct{ ID string }
		require.NoError(t, json.Unmarshal(res.Data[field], &v))
		ids[field] = v.ID
	}
	mutate(adminA, `mutation { createCohort(input: {name: "S", staticUsers: ["u1"]}) { id } }`, "createCohort")
	mutate(adminA, `mutation { createDashboard(input: {slug: "n", title: "N"}) { id } }`, "createDashboard")
	mutate(analystA, `mutation { exportQuery(input: {events: {timeRange: {last: "1d"}}, format: CSV}) { id } }`, "exportQuery")
	mutate(adminA, `{ metric(key: "active_learners_dau") { id } }`, "metric")
	want := map[string]string{"createCohort": "Cohort", "createDashboard": "Dashboard", "exportQuery": "ExportJob", "metric": "Metric"}

	q := `query($id: ID!) { node(id: $id) { __typename id ... on Cohort { name } ... on Dashboard { slug } ... on Metric { key } ... on ExportJob { status } } }`
	for field, id := range ids {
		t.Run(want[field], func(t *testing.T) {
			res := h.query(analystA, q, map[string]any{"id": id})
			require.Empty(t, res.Errors, "%+v", res.Errors)
			var n struct{ Typename, ID string }
			require.NoError(t, json.Unmarshal(res.Data["node"], &struct {
				Typename *string `json:"__typename"`
				ID       *string `json:"id"`
			}{&n.Typename, &n.ID}))
			assert.Equal(t, want[field], n.Typename)
			assert.Equal(t, id, n.ID)

			res = h.query(adminB, q, map[string]any{"id": id})
			require.Empty(t, res.Errors, "%+v", res.Errors)
			assert.Equal(t, "null", string(res.Data["node"]), "tenant B asks for tenant A's %s", want[field])
		})
	}
	res := h.query(viewerA, q, map[string]any{"id": ids["exportQuery"]})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.Equal(t, "null", string(res.Data["node"]), "exports are for analysts: a viewer's node(export id) is null")
	start := time.Now()
	res = h.query(analystA, q, map[string]any{"id": "00000000-0000-4000-8000-000000000000"})
	t.Logf("node(unknown id), every getter tried: %v", time.Since(start))
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.Equal(t, "null", string(res.Data["node"]), "an id nobody knows")
	res = h.query(adminA, q, map[string]any{"id": "n"})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.Equal(t, "null", string(res.Data["node"]), "a dashboard slug is not a node id")
	res = h.query(viewerA, `{ node(id: "key:course_completions") { __typename ... on Monitor { isDefault } } }`, nil)
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"__typename":"Monitor","isDefault":true}`, string(res.Data["node"]))
}

func ptr[T any](v T) *T { return &v }
