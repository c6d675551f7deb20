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
		// ClickHouse refuses deeper JSON values; the envelope is level 1.
		{"deepest properties", "events.t1.user.login", with("properties", nestedMap(ingest.MaxDepth-1)), "", ""},
		{"properties one level too deep", "events.t1.user.login", with("properties", nestedMap(ingest.MaxDepth)), ingest.ReasonTooDeep, ""},
		{"other member 2000 levels deep", "events.t1.user.login", with("x", json.RawMessage(nestedJSON(2000))), ingest.ReasonTooDeep, ""},
		{"arrays too deep", "events.t1.user.login", with("properties", map[string]any{"k": json.RawMessage(strings.Repeat("[", 200) + strings.Repeat("]", 200))}), ingest.ReasonTooDeep, ""},
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

// TestDecodeJSONForms covers the JSON the envelope scanner must read as
// encoding/json does (escapes, whitespace) and the forms it refuses.
func TestDecodeJSONForms(t *testing.T) {
	dec := ingest.NewDecoder(ingest.DecoderConfig{})
	const tail = `"tenant_id":"t1","type":"quiz.submitted","occurred_at":"2026-03-10T11:00:00Z"`
	tests := []struct {
		name       string
		data       string
		reason     ingest.Reason
		id, user   string
		properties string
	}{
		{"escapes and spaces", " {\r\n \"\\u0069d\" : \"\\ud83d\\ude00\\/\\\"x\" , \"user_id\":\"caf\\u00e9\"," + tail +
			`,"properties":{ "score" : 72 , "tags" : [ "a b" , "c\\" ] } }` + "\t", "", "😀/\"x", "café", `{"score":72,"tags":["a b","c\\"]}`},
		{"compact properties kept", `{"id":"e1","user_id":"u1",` + tail + `,"properties":{"score":0,"x":{"y":[null,true,false,-1.5e3]}}}`,
			"", "e1", "u1", `{"score":0,"x":{"y":[null,true,false,-1.5e3]}}`},
		{"unknown members ignored", `{"id":"e1","user_id":"u1","extra":{"a":[1,2]},` + tail + `,"properties":{"score":1}}`, "", "e1", "u1", `{"score":1}`},
		{"last score wins", `{"id":"e1","user_id":"u1",` + tail + `,"properties":{"score":500,"score":50}}`, "", "e1", "u1", `{"score":500,"score":50}`},
		{"field given twice", `{"id":"e1","id":"e2","user_id":"u1",` + tail + `,"properties":{"score":1}}`, ingest.ReasonInvalidJSON, "", "", ""},
		{"trailing data", `{"id":"e1","user_id":"u1",` + tail + `,"properties":{"score":1}} {}`, ingest.ReasonInvalidJSON, "", "", ""},
		{"trailing comma", `{"id":"e1","user_id":"u1",` + tail + `,"properties":{"score":1},}`, ingest.ReasonInvalidJSON, "", "", ""},
		{"bad escape", `{"id":"e\x","user_id":"u1",` + tail + `,"properties":{"score":1}}`, ingest.ReasonInvalidJSON, "", "", ""},
		{"raw control character", "{\"id\":\"e\x01\",\"user_id\":\"u1\"," + tail + `,"properties":{"score":1}}`, ingest.ReasonInvalidJSON, "", "", ""},
		{"bad number", `{"id":"e1","user_id":"u1",` + tail + `,"properties":{"score":01}}`, ingest.ReasonInvalidJSON, "", "", ""},
		{"lone surrogate", `{"id":"\ud800","user_id":"u1",` + tail + `,"properties":{"score":1}}`, ingest.ReasonInvalidField, "", "", ""},
		{"escaped control character", `{"id":"e\u0007","user_id":"u1",` + tail + `,"properties":{"score":1}}`, ingest.ReasonInvalidField, "", "", ""},
		{"invalid UTF-8", "{\"id\":\"e\xff\",\"user_id\":\"u1\"," + tail + `,"properties":{"score":1}}`, ingest.ReasonInvalidField, "", "", ""},
		{"score null", `{"id":"e1","user_id":"u1",` + tail + `,"properties":{"score":null}}`, ingest.ReasonInvalidProperty, "", "", ""},
		{"score string", `{"id":"e1","user_id":"u1",` + tail + `,"properties":{"score":"72"}}`, ingest.ReasonInvalidProperty, "", "", ""},
		{"score overflows", `{"id":"e1","user_id":"u1",` + tail + `,"properties":{"score":1e999}}`, ingest.ReasonInvalidProperty, "", "", ""},
		{"score only nested", `{"id":"e1","user_id":"u1",` + tail + `,"properties":{"x":{"score":1}}}`, ingest.ReasonInvalidProperty, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, rej := dec.DecodeMessage("events.t1.quiz.submitted", []byte(tc.data), received)
			if tc.reason != "" {
				require.NotNil(t, rej, "expected %s", tc.reason)
				assert.Equal(t, tc.reason, rej.Code, rej.Message)
				return
			}
			require.Nil(t, rej)
			assert.Equal(t, tc.id, ev.ID)
			assert.Equal(t, tc.user, ev.UserID)
			assert.Equal(t, tc.properties, string(ev.Properties))
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

// BenchmarkDecodeMessage is the decoder's cost per envelope on the shapes
// the firehose carries (the analyticsbench ingest events).
func BenchmarkDecodeMessage(b *testing.B) {
	dec := ingest.NewDecoder(ingest.DecoderConfig{})
	types := []string{ingest.TypeUserLogin, ingest.TypeLessonCompleted, ingest.TypeVideoWatched, ingest.TypeQuizSubmitted}
	subjects := make([]string, len(types))
	envelopes := make([][]byte, len(types))
	for i, typ := range types {
		ev := ingest.Event{ID: "bench-ingest-direct-12345", TenantID: "bench-ingest-direct", Type: typ, UserID: "user-4211",
			SessionID: "s-617", OccurredAt: received.Add(-time.Hour),
			Properties: json.RawMessage(`{"course_id":"c-17","lesson_id":"l-217","score":42,"seconds":1234}`)}
		data, err := json.Marshal(ev)
		require.NoError(b, err)
		subjects[i], envelopes[i] = ev.Subject(), data
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i % len(types)
		if _, rej := dec.DecodeMessage(subjects[k], envelopes[k], received); rej != nil {
			b.Fatal(rej)
		}
	}
}
