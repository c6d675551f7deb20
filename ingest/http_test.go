package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/store"
)

// httpIngest serves POST /v1/events on js and db behind token checks and
// returns its URL and a signer of tokens for tenant web with a role.
func httpIngest(t *testing.T, js jetstream.JetStream, db *store.DB, cfg ingest.HTTPConfig) (url string, tokenAs func(auth.Role) string) {
	t.Helper()
	secret := bytes.Repeat([]byte("k"), 32)
	verifier, err := auth.NewHMACVerifier(secret, auth.VerifyOptions{})
	require.NoError(t, err)
	signer, err := auth.NewHMACSigner(secret)
	require.NoError(t, err)
	srv := httptest.NewServer(auth.Middleware(verifier)(ingest.HTTPHandler(ingest.NewPublisher(js),
		ingest.NewDecoder(ingest.DecoderConfig{}), ingest.NewDeadLetterWriter(js, db, nil), cfg)))
	t.Cleanup(srv.Close)
	return srv.URL, func(r auth.Role) string {
		token, err := signer.Sign(auth.Principal{Subject: "svc", Tenant: "web", Roles: []auth.Role{r}}, time.Hour)
		require.NoError(t, err)
		return token
	}
}

func TestHTTPIngest(t *testing.T) {
	_, js, db, _ := firehose(t)
	url, tokenAs := httpIngest(t, js, db, ingest.HTTPConfig{MaxBodyBytes: 64 << 10})
	token := tokenAs(auth.RoleIngest)

	at := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano)
	good := func(id string) string {
		return fmt.Sprintf(`{"id":%q,"type":"user.login","user_id":"u1","occurred_at":%q}`, id, at)
	}
	arr := "[" + strings.Join([]string{
		good("h1"),
		fmt.Sprintf(`{"id":"h2","tenant_id":"web","type":"quiz.submitted","user_id":"u1","occurred_at":%q,"properties":{"score":88}}`, at),
		fmt.Sprintf(`{"id":"h3","tenant_id":"other","type":"user.login","user_id":"u1","occurred_at":%q}`, at),
		`{"id":"h4"}`,
	}, ",") + "]"
	ndjson := good("n1") + "\n\n" + good("n2") + "\n" + `not json` + "\n"
	// deep nests its properties so the envelope has levels levels.
	deep := func(id string, levels int) string {
		return fmt.Sprintf(`{"id":%q,"type":"user.login","user_id":"u1","occurred_at":%q,"properties":%s}`, id, at, nestedJSON(levels-1))
	}

	tests := []struct {
		name, body, token string
		status            int
		accepted          int
		errors            []ingest.LineError
		message           string // in the error of a request refused as a whole
	}{
		{"array mixed", arr, token, http.StatusMultiStatus, 2, []ingest.LineError{
			{Line: 3, Reason: ingest.ReasonTenantMismatch, Field: "tenant_id"},
			{Line: 4, Reason: ingest.ReasonMissingField, Field: "type"},
		}, ""},
		{"ndjson", ndjson, token, http.StatusMultiStatus, 2, []ingest.LineError{{Line: 4, Reason: ingest.ReasonInvalidJSON}}, ""},
		{"retried request stores its dead letters once", arr, token, http.StatusMultiStatus, 2, []ingest.LineError{
			{Line: 3, Reason: ingest.ReasonTenantMismatch, Field: "tenant_id"},
			{Line: 4, Reason: ingest.ReasonMissingField, Field: "type"},
		}, ""},
		{"all good", "[" + good("g1") + "," + good("g2") + "]", token, http.StatusOK, 2, []ingest.LineError{}, ""},
		{"retry is idempotent", "[" + good("g1") + "]", token, http.StatusOK, 1, []ingest.LineError{}, ""},
		{"none good", `[{"id":1}]`, token, http.StatusUnprocessableEntity, 0, []ingest.LineError{{Line: 1, Reason: ingest.ReasonInvalidField, Field: "id"}}, ""},
		{"no token", arr, "", http.StatusUnauthorized, 0, nil, "Bearer"},
		{"bad token", arr, "nope", http.StatusUnauthorized, 0, nil, "malformed"},
		{"broken array", `[{"id":"x"},`, token, http.StatusBadRequest, 0, nil, ""},
		// Only producers write: reading roles are refused, admin may.
		{"viewer may not send", arr, tokenAs(auth.RoleViewer), http.StatusForbidden, 0, nil, "role ingest"},
		{"analyst may not send", arr, tokenAs(auth.RoleAnalyst), http.StatusForbidden, 0, nil, "role ingest"},
		{"admin may send", "[" + good("a1") + "]", tokenAs(auth.RoleAdmin), http.StatusOK, 1, []ingest.LineError{}, ""},
		// What the store would refuse is not "accepted": the body is refused
		// before it is parsed, saying why.
		{"array nested 2000 levels", "[" + good("d0") + "," + deep("d1", 2000) + "]", token, http.StatusBadRequest, 0, nil,
			"more than 128 levels deep inside an event (line 1, byte"},
		{"ndjson nested 10000 levels", good("d2") + "\n" + deep("d3", 10_000), token, http.StatusBadRequest, 0, nil,
			"more than 128 levels deep inside an event (line 2, byte"},
		{"one level too deep", deep("d4", ingest.MaxDepth+1), token, http.StatusBadRequest, 0, nil, "flatten them"},
		{"deepest accepted", "[" + deep("d5", ingest.MaxDepth) + "]", token, http.StatusOK, 1, []ingest.LineError{}, ""},
		{"too large", "[" + strings.Repeat(good("big")+",", 1000) + good("z") + "]", token, http.StatusRequestEntityTooLarge, 0, nil, "bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, url+"/v1/events", strings.NewReader(tc.body))
			require.NoError(t, err)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode)
			if tc.errors == nil {
				var e map[string]string
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
				assert.Contains(t, e["error"], tc.message)
				return
			}
			var res ingest.HTTPResult
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&res))
			assert.Equal(t, tc.accepted, res.Accepted)
			assert.Equal(t, len(tc.errors), res.Rejected)
			for i := range res.Errors {
				assert.NotEmpty(t, res.Errors[i].Message)
				res.Errors[i].Message = ""
			}
			assert.Equal(t, tc.errors, res.Errors)
		})
	}

	// Exactly the accepted events are on the firehose, for the token's
	// tenant, and each refused line once as a dead letter.
	s, err := js.Stream(context.Background(), ingest.DefaultStreamName)
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstreamSubjects())
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"events.web.user.login": 7, "events.web.quiz.submitted": 1, "events.dlq.web": 4}, info.State.Subjects)

	// The dead letters keep the original line, the reason and the time.
	rows, err := db.Query(context.Background(),
		"SELECT subject, reason_code, reason, payload, received_at FROM dead_letters WHERE tenant_id = ? ORDER BY subject, payload", "web")
	require.NoError(t, err)
	defer rows.Close()
	type letter struct{ subject, code, payload string }
	var got []letter
	for rows.Next() {
		var l letter
		var reason string
		var at time.Time
		require.NoError(t, rows.Scan(&l.subject, &l.code, &reason, &l.payload, &at))
		assert.NotEmpty(t, reason)
		assert.WithinDuration(t, time.Now(), at, time.Minute)
		got = append(got, l)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []letter{
		{"POST /v1/events line 1", string(ingest.ReasonInvalidField), `{"id":1}`},
		{"POST /v1/events line 3", string(ingest.ReasonTenantMismatch), fmt.Sprintf(`{"id":"h3","tenant_id":"other","type":"user.login","user_id":"u1","occurred_at":%q}`, at)},
		{"POST /v1/events line 4", string(ingest.ReasonInvalidJSON), `not json`},
		{"POST /v1/events line 4", string(ingest.ReasonMissingField), `{"id":"h4"}`},
	}, got)
}

// TestHTTPIngestDeadLetterStoreDown: when the refused lines cannot be
// recorded, nothing of the request is published and the client is told to
// retry.
func TestHTTPIngestDeadLetterStoreDown(t *testing.T) {
	_, js, db, fb := firehose(t)
	url, tokenAs := httpIngest(t, js, db, ingest.HTTPConfig{})
	token := tokenAs(auth.RoleIngest)
	fb.SetDown(true)

	at := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano)
	body := fmt.Sprintf(`{"id":"d1","type":"user.login","user_id":"u1","occurred_at":%q}`, at) + "\n" + `{"id":"d2"}`
	req, err := http.NewRequest(http.MethodPost, url+"/v1/events", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, int64(1), fb.FailedInserts())
	s, err := js.Stream(context.Background(), ingest.DefaultStreamName)
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstreamSubjects())
	require.NoError(t, err)
	assert.Zero(t, info.State.Subjects["events.web.user.login"], "no event of the refused request is published")
}
