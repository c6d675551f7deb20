package ingest_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/learnhub/analytics-service/ingest"
)

// FuzzDecodeMessage checks that the decoder never panics, that every
// rejection carries a known code and a message, that it agrees with
// encoding/json on what is valid JSON and on the field values, and that an
// accepted envelope is normalised (UTC ms, object properties, printable
// fields) and survives a round trip through its own JSON.
func FuzzDecodeMessage(f *testing.F) {
	f.Add("events.t1.user.login", []byte(`{"id":"e1","tenant_id":"t1","type":"user.login","user_id":"u1","occurred_at":"2026-03-10T11:00:00Z"}`))
	f.Add("events.t1.quiz.submitted", []byte(`{"id":"e1","tenant_id":"t1","type":"quiz.submitted","user_id":"u1","occurred_at":"2026-03-10T11:00:00.5+02:00","properties":{"score":72.5}}`))
	f.Add("events.t1.video.watched", []byte(`{"id":"e1","tenant_id":"t1","type":"video.watched","user_id":"u1","occurred_at":"2026-03-10T11:00:00Z","session_id":null,"properties":{"seconds":1e3}}`))
	f.Add("events.dlq.t1", []byte(`{"id":"\u0000"}`))
	f.Add("events..", []byte(`[]`))
	f.Add("events.t1.x", []byte(`{"id":"e","tenant_id":"t1","type":"x","user_id":"u","occurred_at":"9999-12-31T23:59:59Z","properties":{"a":{"b":[1,{"c":null}]}}}`))
	f.Add("events.t1.x", []byte(" {\"\\u0069d\":\"\\ud83d\\ude00\\/\", \"tenant_id\":\"t1\",\"type\":\"x\",\"user_id\":\"\\u00e9\",\"occurred_at\":\"2026-03-10T11:00:00Z\",\"properties\": { \"k\" : [ 1.5e-3 , \"a b\\\"\" ] } } "))
	f.Add("events.t1.x", []byte("\u00a0{\"id\":\"e\",\"tenant_id\":\"t1\",\"type\":\"x\",\"user_id\":\"u\",\"occurred_at\":\"2026-03-10T11:00:00Z\"}\v"))
	f.Add("events.t1.x", []byte(`{"id":"e","tenant_id":"t1","type":"x","user_id":"u","occurred_at":"2026-03-10T11:00:00Z","properties":`+strings.Repeat(`{"a":`, 130)+"1"+strings.Repeat("}", 130)+"}"))
	f.Add("events.t1.x", []byte(`{"id":"e","id":"f","tenant_id":"t1","type":"x","user_id":"u","occurred_at":"2026-03-10T11:00:00Z"}`))
	dec := ingest.NewDecoder(ingest.DecoderConfig{})
	known := map[ingest.Reason]bool{}
	for _, r := range []ingest.Reason{ingest.ReasonTooLarge, ingest.ReasonInvalidJSON, ingest.ReasonMissingField, ingest.ReasonInvalidField,
		ingest.ReasonInvalidTenant, ingest.ReasonInvalidType, ingest.ReasonInvalidSubject, ingest.ReasonTenantMismatch, ingest.ReasonTypeMismatch,
		ingest.ReasonInvalidTime, ingest.ReasonTimeInFuture, ingest.ReasonTimeTooOld, ingest.ReasonInvalidProperties, ingest.ReasonInvalidProperty, ingest.ReasonTooDeep} {
		known[r] = true
	}
	f.Fuzz(func(t *testing.T, subject string, data []byte) {
		ev, rej := dec.DecodeMessage(subject, data, received)
		valid := json.Valid(data)
		if rej != nil {
			if !known[rej.Code] || rej.Message == "" {
				t.Fatalf("rejection %+v has an unknown code or no message", rej)
			}
			_, _, subjectOK := ingest.SplitSubject(subject)
			// Depth is judged as the scan goes: a text too deep is too_deep
			// whatever follows.
			if !valid && subjectOK && len(data) <= dec.MaxSize() && rej.Code != ingest.ReasonInvalidJSON && rej.Code != ingest.ReasonTooDeep {
				t.Fatalf("invalid JSON refused as %s, not %s", rej.Code, ingest.ReasonInvalidJSON)
			}
			if valid && rej.Code == ingest.ReasonInvalidJSON && bytes.HasPrefix(bytes.Trim(data, " \t\r\n"), []byte("{")) &&
				!strings.Contains(rej.Message, "appears twice") {
				t.Fatalf("valid JSON object refused as invalid: %s", rej.Message)
			}
			return
		}
		if !valid {
			t.Fatalf("invalid JSON accepted: %q", data)
		}
		var ref struct {
			ID, TenantID, UserID, SessionID string
			Properties                      json.RawMessage
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(data, &fields); err != nil {
			t.Fatal(err)
		}
		for name, dst := range map[string]*string{"id": &ref.ID, "tenant_id": &ref.TenantID, "user_id": &ref.UserID, "session_id": &ref.SessionID} {
			if raw, ok := fields[name]; ok {
				if err := json.Unmarshal(raw, dst); err != nil {
					t.Fatalf("%s accepted but encoding/json cannot read it: %v", name, err)
				}
			}
		}
		if ref.ID != ev.ID || ref.TenantID != ev.TenantID || ref.UserID != ev.UserID || ref.SessionID != ev.SessionID {
			t.Fatalf("fields differ from encoding/json's reading:\n%+v\n%+v", ref, ev)
		}
		if raw := fields["properties"]; len(raw) > 0 && string(raw) != "null" {
			var compact bytes.Buffer
			if err := json.Compact(&compact, raw); err != nil {
				t.Fatal(err)
			}
			if compact.String() != string(ev.Properties) {
				t.Fatalf("properties %s, encoding/json compacts them to %s", ev.Properties, compact.Bytes())
			}
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
