package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
)

// createKey issues an API key over GraphQL as tenant's admin.
func (h *harness) createKey(tenant, name, role string) (id, secret string) {
	h.t.Helper()
	res := h.query(h.token(tenant, auth.RoleAdmin), `mutation($n: String!, $r: Role!) { createApiKey(name: $n, role: $r) { key { id name role revoked } secret } }`,
		map[string]any{"n": name, "r": role})
	require.Empty(h.t, res.Errors, "%+v", res.Errors)
	var out struct {
		Key    struct{ ID, Name, Role string }
		Secret string
	}
	require.NoError(h.t, json.Unmarshal(res.Data["createApiKey"], &out))
	require.Equal(h.t, role, out.Key.Role)
	return out.Key.ID, out.Secret
}

func TestAPIKeysOverGraphQLAndREST(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.ensureFirehose()

	ingestID, ingestKey := h.createKey("tenant-a", "web shop", "INGEST")
	_, viewerKey := h.createKey("tenant-a", "embed", "VIEWER")

	res := h.query(h.token("tenant-a", auth.RoleAnalyst), `mutation { createApiKey(name: "x", role: INGEST) { secret } }`, nil)
	assert.Equal(t, "FORBIDDEN", res.code(), "only admins issue keys")
	res = h.query(h.token("tenant-a", auth.RoleAdmin), `mutation { createApiKey(name: "x", role: ADMIN) { secret } }`, nil)
	require.Equal(t, "BAD_USER_INPUT", res.code())
	assert.Equal(t, "role", res.Errors[0].Extensions["field"])

	at := time.Now().UTC().Format(time.RFC3339)
	ev := fmt.Sprintf(`[{"id":"k1","type":"user.login","user_id":"u1","occurred_at":%q}]`, at)
	post := h.rest(http.MethodPost, "/v1/events", ingestKey, ev)
	require.Equal(t, http.StatusOK, post.status, string(post.body))
	post = h.rest(http.MethodPost, "/v1/events", viewerKey, ev)
	assert.Equal(t, http.StatusForbidden, post.status, "a VIEWER key cannot send events")
	res = h.query(ingestKey, `{ apiKeys { id } }`, nil)
	assert.Equal(t, "FORBIDDEN", res.code(), "an INGEST key reads nothing")

	t.Run("a key of tenant A never reads B", func(t *testing.T) {
		h.insertEvents("tenant-b", event{"b1", "course.enrolled", time.Now().UTC().Add(-time.Hour)})
		created := h.rest(http.MethodPost, "/v1/exports", h.token("tenant-b", auth.RoleAnalyst), `{"sql":"SELECT 1","format":"CSV"}`)
		require.Equal(t, http.StatusCreated, created.status, string(created.body))
		res := h.query(viewerKey, `query($id: ID!) { exportJob(id: $id) { id } }`, map[string]any{"id": "x"})
		assert.Equal(t, "FORBIDDEN", res.code(), "a VIEWER key cannot read exports at all")
		dash := h.rest(http.MethodGet, "/v1/dashboards/learner-progress?last=7d", viewerKey, "")
		require.Equal(t, http.StatusOK, dash.status, string(dash.body))
		assert.NotContains(t, string(dash.body), `"value":1`, "tenant B's enrolment is not in tenant A's dashboard")
		list := h.query(h.token("tenant-b", auth.RoleAdmin), `{ apiKeys { id } }`, nil)
		require.Empty(t, list.Errors)
		assert.JSONEq(t, `[]`, string(list.Data["apiKeys"]), "tenant B does not see A's keys")
		rev := h.query(h.token("tenant-b", auth.RoleAdmin), `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": ingestID})
		assert.Equal(t, "NOT_FOUND", rev.code(), "tenant B cannot revoke A's key")
	})

	res = h.query(h.token("tenant-a", auth.RoleAdmin), `mutation($id: ID!) { revokeApiKey(id: $id) { id revoked } }`, map[string]any{"id": ingestID})
	require.Empty(t, res.Errors, "%+v", res.Errors)
	assert.JSONEq(t, `{"id":"`+ingestID+`","revoked":true}`, string(res.Data["revokeApiKey"]))
	deadline := time.Now().Add(2 * time.Second)
	for post.status != http.StatusUnauthorized && time.Now().Before(deadline) {
		post = h.rest(http.MethodPost, "/v1/events", ingestKey, ev)
	}
	assert.Equal(t, http.StatusUnauthorized, post.status, "a revoked key is refused within the cache TTL: %s", post.body)
	list := h.query(h.token("tenant-a", auth.RoleAdmin), `{ apiKeys { name revoked } }`, nil)
	require.Empty(t, list.Errors)
	var keys []struct {
		Name    string
		Revoked bool
	}
	require.NoError(t, json.Unmarshal(list.Data["apiKeys"], &keys))
	assert.ElementsMatch(t, []struct {
		Name    string
		Revoked bool
	}{{"embed", false}, {"web shop", true}}, keys)
}
