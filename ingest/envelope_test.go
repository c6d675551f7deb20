package ingest_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
)

var received = time.Date(2026, 3, 10, 12, 0, 0, 123_456_789, time.UTC)

func TestDecodeMessage(t *testing.T) {
	dec := ingest.NewDecoder(ingest.DecoderConfig{})
	ok := `{"id":"e1","tenant_id":"acme-corp","type":"lesson.completed","user_id":"u1","occurred_at":"2026-03-10T13:30:00.123456+01:00","session_id":"s1","properties":{ "course_id" : "c1" }}`
	ev, rej := dec.DecodeMessage("events.acme-corp.lesson.completed", []byte(ok), received)
	require.Nil(t, rej)
	assert.Equal(t, ingest.Event{
		ID: "e1", TenantID: "acme-corp", Type: "lesson.completed", UserID: "u1", SessionID: "s1",
		OccurredAt: time.Date(2026, 3, 10, 12, 30, 0, 123_000_000, time.UTC),
		ReceivedAt: time.Date(2026, 3, 10, 12, 0, 0, 123_000_000, time.UTC),
		Properties: json.RawMessage(`{"course_id":"c1"}`),
	}, ev)
	out, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"e1","tenant_id":"acme-corp","type":"lesson.completed","user_id":"u1","occurred_at":"2026-03-10T12:30:00.123Z","session_id":"s1","properties":{"course_id":"c1"}}`, string(out))

	base := map[string]any{"id": "e1", "tenant_id": "t1", "type": "user.login", "user_id": "u1", "occurred_at": "2026-03-10T11:00:00Z"}
	with := func(k string, v any) []byte {
		m := map[string]any{}
		for kk, vv := range base {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return b
	}
	tests := []struct {
		name    string
		subject string
		data    []byte
		reason  ingest.Reason
		field   string
	}{
		{"valid, properties absent", "events.t1.user.login", with("x", nil), "", ""},
		{"valid, unknown type", "events.t1.custom_thing", with("type", "custom_thing"), "", ""},
		{"valid, properties null", "events.t1.user.login", with("properties", json.RawMessage("null")), "", ""},
		{"too large", "events.t1.user.login", with("properties", map[string]string{"x": strings.Repeat("a", 70_000)}), ingest.ReasonTooLarge, ""},
		{"not an object", "events.t1.user.login", []byte(`[1]`), ingest.ReasonInvalidJSON, ""},
		{"null", "events.t1.user.login", []byte(`null`), ingest.ReasonInvalidJSON, ""},
		{"broken", "events.t1.user.login", []byte(`{"id":"e1"`), ingest.ReasonInvalidJSON, ""},
		{"missing id", "events.t1.user.login", with("id", nil), ingest.ReasonMissingField, "id"},
		{"empty user", "events.t1.user.login", with("user_id", ""), ingest.ReasonMissingField, "user_id"},
		{"id not a string", "events.t1.user.login", with("id", 7), ingest.ReasonInvalidField, "id"},
		{"id too long", "events.t1.user.login", with("id", strings.Repeat("x", 129)), ingest.ReasonInvalidField, "id"},
		{"control character", "events.t1.user.login", with("user_id", "a\nb"), ingest.ReasonInvalidField, "user_id"},
		{"missing tenant", "events.t1.user.login", with("tenant_id", nil), ingest.ReasonMissingField, "tenant_id"},
		{"upper-case tenant", "events.T1.user.login", with("tenant_id", "T1"), ingest.ReasonInvalidSubject, ""},
		{"reserved tenant", "events.t1.user.login", with("tenant_id", "dlq"), ingest.ReasonInvalidTenant, "tenant_id"},
		{"bad type", "events.t1.user.login", with("type", "User Login"), ingest.ReasonInvalidType, "type"},
		{"empty type segment", "events.t1.user.login", with("type", "user..login"), ingest.ReasonInvalidType, "type"},
		{"subject without type", "events.t1", with("x", nil), ingest.ReasonInvalidSubject, ""},
		{"other subject", "orders.t1.user.login", with("x", nil), ingest.ReasonInvalidSubject, ""},
		{"tenant mismatch", "events.t2.user.login", with("x", nil), ingest.ReasonTenantMismatch, "tenant_id"},
		{"type mismatch", "events.t1.user.logout", with("x", nil), ingest.ReasonTypeMismatch, "type"},
		{"time without offset", "events.t1.user.login", with("occurred_at", "2026-03-10T11:00:00"), ingest.ReasonInvalidTime, "occurred_at"},
		{"time not a string", "events.t1.user.login", with("occurred_at", 1741600000), ingest.ReasonInvalidField, "occurred_at"},
		{"time in future", "events.t1.user.login", with("occurred_at", "2026-03-11T12:00:01Z"), ingest.ReasonTimeInFuture, "occurred_at"},
		{"time just inside future", "events.t1.user.login", with("occurred_at", "2026-03-11T11:59:59Z"), "", ""},
		{"time too old", "events.t1.user.login", with("occurred_at", "2025-01-01T00:00:00Z"), ingest.ReasonTimeTooOld, "occurred_at"},
		{"properties array", "events.t1.user.login", with("properties", []int{1}), ingest.ReasonInvalidProperties, "properties"},
		{"properties string", "events.t1.user.login", with("properties", "x"), ingest.ReasonInvalidProperties, "properties"},
		{"quiz without score", "events.t1.quiz.submitted", with("type", "quiz.submitted"), ingest.ReasonInvalidProperty, "properties.score"},
		{"video negative", "events.t1.video.watched", func() []byte {
			base["type"] = "video.watched"
			defer func() { base["type"] = "user.login" }()
			return with("properties", map[string]any{"seconds": -1})
		}(), ingest.ReasonInvalidProperty, "properties.seconds"},
		{"session not a string", "events.t1.user.login", with("session_id", 5), ingest.ReasonInvalidField, "session_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, rej := dec.DecodeMessage(tc.subject, tc.data, received)
			if tc.reason == "" {
				require.Nil(t, rej)
				assert.Equal(t, "t1", ev.TenantID)
				assert.True(t, json.Valid(ev.Properties) && ev.Properties[0] == '{', string(ev.Properties))
				return
			}
			require.NotNil(t, rej, "expected %s", tc.reason)
			assert.Equal(t, tc.reason, rej.Code)
			assert.Equal(t, tc.field, rej.Field)
			assert.NotEmpty(t, rej.Message)
		})
	}
}

func TestDecodeForTenant(t *testing.T) {
	dec := ingest.NewDecoder(ingest.DecoderConfig{})
	body := []byte(`{"id":"e1","type":"user.login","user_id":"u1","occurred_at":"2026-03-10T11:00:00Z"}`)
	ev, rej := dec.DecodeForTenant("web", body, received)
	require.Nil(t, rej)
	assert.Equal(t, "web", ev.TenantID)
	_, rej = dec.DecodeForTenant("web", []byte(`{"id":"e1","tenant_id":"other","type":"user.login","user_id":"u1","occurred_at":"2026-03-10T11:00:00Z"}`), received)
	require.NotNil(t, rej)
	assert.Equal(t, ingest.ReasonTenantMismatch, rej.Code)
}

func TestDecoderConfigLimits(t *testing.T) {
	dec := ingest.NewDecoder(ingest.DecoderConfig{MaxSize: 100, HotRetention: time.Hour, MaxFuture: time.Minute})
	at := func(d time.Duration) []byte {
		return []byte(`{"id":"e","tenant_id":"t","type":"x","user_id":"u","occurred_at":"` + received.Add(d).Format(time.RFC3339) + `"}`)
	}
	tests := []struct {
		name   string
		data   []byte
		reason ingest.Reason
	}{
		{"inside", at(-30 * time.Minute), ""},
		{"older than retention", at(-2 * time.Hour), ingest.ReasonTimeTooOld},
		{"beyond skew", at(2 * time.Minute), ingest.ReasonTimeInFuture},
		{"over size", append(at(0), make([]byte, 100)...), ingest.ReasonTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, rej := dec.DecodeMessage("events.t.x", tc.data, received)
			if tc.reason == "" {
				assert.Nil(t, rej)
				return
			}
			require.NotNil(t, rej)
			assert.Equal(t, tc.reason, rej.Code)
		})
	}
}
