package ingest_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/learnhub/analytics-service/ingest"
)

// FuzzDecodeMessage checks that the decoder never panics, that every
// rejection carries a known code and a message, and that an accepted
// envelope is normalised (UTC ms, object properties, printable fields) and
// survives a round trip through its own JSON.
func FuzzDecodeMessage(f *testing.F) {
	f.Add("events.t1.user.login", []byte(`{"id":"e1","tenant_id":"t1","type":"user.login","user_id":"u1","occurred_at":"2026-03-10T11:00:00Z"}`))
	f.Add("events.t1.quiz.submitted", []byte(`{"id":"e1","tenant_id":"t1","type":"quiz.submitted","user_id":"u1","occurred_at":"2026-03-10T11:00:00.5+02:00","properties":{"score":72.5}}`))
	f.Add("events.t1.video.watched", []byte(`{"id":"e1","tenant_id":"t1","type":"video.watched","user_id":"u1","occurred_at":"2026-03-10T11:00:00Z","session_id":null,"properties":{"seconds":1e3}}`))
	f.Add("events.dlq.t1", []byte(`{"id":"\u0000"}`))
	f.Add("events..", []byte(`[]`))
	f.Add("events.t1.x", []byte(`{"id":"e","tenant_id":"t1","type":"x","user_id":"u","occurred_at":"9999-12-31T23:59:59Z","properties":{"a":{"b":[1,{"c":null}]}}}`))
	dec := ingest.NewDecoder(ingest.DecoderConfig{})
	known := map[ingest.Reason]bool{}
	for _, r := range []ingest.Reason{ingest.ReasonTooLarge, ingest.ReasonInvalidJSON, ingest.ReasonMissingField, ingest.ReasonInvalidField,
		ingest.ReasonInvalidTenant, ingest.ReasonInvalidType, ingest.ReasonInvalidSubject, ingest.ReasonTenantMismatch, ingest.ReasonTypeMismatch,
		ingest.ReasonInvalidTime, ingest.ReasonTimeInFuture, ingest.ReasonTimeTooOld, ingest.ReasonInvalidProperties, ingest.ReasonInvalidProperty} {
		known[r] = true
	}
	f.Fuzz(func(t *testing.T, subject string, data []byte) {
		ev, rej := dec.DecodeMessage(subject, data, received)
		if rej != nil {
			if !known[rej.Code] || rej.Message == "" {
				t.Fatalf("rejection %+v has an unknown code or no message", rej)
			}
			return
		}
		if ev.Subject() != subject {
			t.Fatalf("accepted on %q but the event's subject is %q", subject, ev.Subject())
		}
		if ev.OccurredAt.Location() != time.UTC || ev.OccurredAt.Nanosecond()%int(time.Millisecond) != 0 {
			t.Fatalf("occurred_at not normalised: %v", ev.OccurredAt)
		}
		if len(ev.Properties) == 0 || ev.Properties[0] != '{' || !json.Valid(ev.Properties) {
			t.Fatalf("properties not an object: %q", ev.Properties)
		}
		for _, s := range []string{ev.ID, ev.UserID, ev.SessionID} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n") {
				t.Fatalf("field not printable: %q", s)
			}
		}
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		ev2, rej := dec.DecodeMessage(subject, again, received)
		if rej != nil {
			t.Fatalf("re-encoded event refused: %v\n%s", rej, again)
		}
		if ev2.ID != ev.ID || !ev2.OccurredAt.Equal(ev.OccurredAt) || string(ev2.Properties) != string(ev.Properties) {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", ev, ev2)
		}
	})
}
