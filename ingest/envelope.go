package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/learnhub/analytics-service/platform/tenantid"
)

// Defaults for the zero values of DecoderConfig.
const (
	// DefaultMaxEnvelopeSize bounds one envelope.
	DefaultMaxEnvelopeSize = 64 << 10
	// DefaultHotRetention is how old an event may be: the hot tier keeps 13
	// months (counted as 396 days so a whole 13th month fits).
	DefaultHotRetention = 396 * 24 * time.Hour
	// DefaultMaxFuture is how far ahead of its arrival an event may claim
	// to have happened (producer clock skew, time zones gone wrong).
	DefaultMaxFuture = 24 * time.Hour
)

// Field limits of the envelope.
const (
	maxIDLen   = 128
	maxTypeLen = 64
)

// jsonSpace is the whitespace JSON allows around a value.
const jsonSpace = " \t\r\n"

// DecoderConfig sets the envelope rules.
type DecoderConfig struct {
	// MaxSize is the largest envelope in bytes; zero means
	// DefaultMaxEnvelopeSize (64 KiB).
	MaxSize int
	// HotRetention is the oldest occurred_at accepted, counted back from the
	// arrival time; zero means DefaultHotRetention (13 months).
	HotRetention time.Duration
	// MaxFuture is how far after the arrival time occurred_at may lie;
	// zero means DefaultMaxFuture (24 h).
	MaxFuture time.Duration
}

// Decoder validates and normalises envelopes. It is safe for concurrent use.
type Decoder struct {
	cfg DecoderConfig
}

// rawEnvelope keeps each field as its raw JSON value (nil when absent) so
// a missing field and a field of the wrong JSON type get different reasons.
type rawEnvelope struct {
	ID         []byte
	TenantID   []byte
	Type       []byte
	UserID     []byte
	OccurredAt []byte
	SessionID  []byte
	Properties []byte
	// propertiesSpaced is set when Properties holds insignificant
	// whitespace (it must be compacted).
	propertiesSpaced bool
}

// NewDecoder returns a Decoder with cfg's rules.
func NewDecoder(cfg DecoderConfig) *Decoder {
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxEnvelopeSize
	}
	if cfg.HotRetention <= 0 {
		cfg.HotRetention = DefaultHotRetention
	}
	if cfg.MaxFuture <= 0 {
		cfg.MaxFuture = DefaultMaxFuture
	}
	return &Decoder{cfg: cfg}
}

// MaxSize is the largest envelope the decoder accepts, in bytes.
func (d *Decoder) MaxSize() int { return d.cfg.MaxSize }

// DecodeMessage decodes an envelope that arrived on subject at receivedAt
// (the time the firehose stored it, which the time rules count from). The
// subject must be events.<tenant>.<type> naming the payload's tenant and
// type.
func (d *Decoder) DecodeMessage(subject string, data []byte, receivedAt time.Time) (Event, *Rejection) {
	tenant, typ, ok := SplitSubject(subject)
	if !ok {
		return Event{}, reject(ReasonInvalidSubject, "", "subject %q must be events.<tenant>.<type>", clip(subject))
	}
	ev, rej := d.decode(data, receivedAt, "")
	if rej != nil {
		return Event{}, rej
	}
	if ev.TenantID != tenant {
		return Event{}, reject(ReasonTenantMismatch, "tenant_id",
			"tenant_id %q differs from the subject's tenant %q; publish on events.%s.<type>", ev.TenantID, tenant, ev.TenantID)
	}
	if ev.Type != typ {
		return Event{}, reject(ReasonTypeMismatch, "type",
			"type %q differs from the subject's type %q; publish on events.%s.%s", ev.Type, typ, ev.TenantID, ev.Type)
	}
	return ev, nil
}

// DecodeForTenant decodes an envelope sent by a caller verified for tenant
// (the HTTP endpoint). tenant_id may be omitted; when present it must be
// tenant.
func (d *Decoder) DecodeForTenant(tenant string, data []byte, receivedAt time.Time) (Event, *Rejection) {
	ev, rej := d.decode(data, receivedAt, tenant)
	if rej != nil {
		return Event{}, rej
	}
	if ev.TenantID != tenant {
		return Event{}, reject(ReasonTenantMismatch, "tenant_id",
			"tenant_id %q differs from your token's tenant %q; omit tenant_id or send %q", ev.TenantID, tenant, tenant)
	}
	return ev, nil
}

// SplitSubject returns the tenant and type of events.<tenant>.<type>; a
// dead-letter subject or any other shape reports false.
func SplitSubject(subject string) (tenant, typ string, ok bool) {
	rest, found := strings.CutPrefix(subject, SubjectPrefix)
	if !found {
		return "", "", false
	}
	tenant, typ, found = strings.Cut(rest, ".")
	if !found || validTenant(tenant) != nil || validType(typ) != nil {
		return "", "", false
	}
	return tenant, typ, true
}

// TenantOfSubject returns the tenant token of an events.<tenant>.… subject
// when it is a valid tenant, or UnknownTenant.
func TenantOfSubject(subject string) string {
	rest, found := strings.CutPrefix(subject, SubjectPrefix)
	if !found {
		return UnknownTenant
	}
	tenant, _, _ := strings.Cut(rest, ".")
	if validTenant(tenant) != nil {
		return UnknownTenant
	}
	return tenant
}

// decode validates everything but the subject. defaultTenant fills an
// absent tenant_id when not empty.
func (d *Decoder) decode(data []byte, receivedAt time.Time, defaultTenant string) (Event, *Rejection) {
	if len(data) > d.cfg.MaxSize {
		return Event{}, reject(ReasonTooLarge, "", "the envelope has %d bytes; the limit is %d", len(data), d.cfg.MaxSize)
	}
	trimmed := bytes.Trim(data, jsonSpace)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Event{}, reject(ReasonInvalidJSON, "", "the envelope must be a JSON object")
	}
	raw, err := scanEnvelope(trimmed)
	var deep *depthError
	if errors.As(err, &deep) {
		return Event{}, reject(ReasonTooDeep, "", "the envelope nests objects and arrays more than %d levels deep (at byte %d); "+
			"the store cannot keep deeper properties: flatten them", MaxDepth, deep.offset+len(data)-len(bytes.TrimLeft(data, jsonSpace)))
	}
	if err != nil {
		return Event{}, reject(ReasonInvalidJSON, "", "the envelope is not valid JSON: %s", clip(err.Error()))
	}
	var ev Event
	var rej *Rejection
	if ev.ID, rej = requiredString(raw.ID, "id", maxIDLen); rej != nil {
		return Event{}, rej
	}
	if len(raw.TenantID) == 0 && defaultTenant != "" {
		ev.TenantID = defaultTenant
	} else if ev.TenantID, rej = requiredString(raw.TenantID, "tenant_id", tenantid.MaxLen+1); rej != nil {
		return Event{}, rej
	}
	if rej = validTenant(ev.TenantID); rej != nil {
		return Event{}, rej
	}
	if ev.Type, rej = requiredString(raw.Type, "type", maxTypeLen+1); rej != nil {
		return Event{}, rej
	}
	if rej = validType(ev.Type); rej != nil {
		return Event{}, rej
	}
	if ev.UserID, rej = requiredString(raw.UserID, "user_id", maxIDLen); rej != nil {
		return Event{}, rej
	}
	if !isNull(raw.SessionID) {
		if ev.SessionID, rej = stringField(raw.SessionID, "session_id", maxIDLen); rej != nil {
			return Event{}, rej
		}
	}
	ev.ReceivedAt = receivedAt.UTC().Truncate(time.Millisecond)
	if ev.OccurredAt, rej = d.occurredAt(raw.OccurredAt, ev.ReceivedAt); rej != nil {
		return Event{}, rej
	}
	if ev.Properties, rej = properties(raw.Properties, raw.propertiesSpaced); rej != nil {
		return Event{}, rej
	}
	if rej = checkProperties(ev.Type, ev.Properties); rej != nil {
		return Event{}, rej
	}
	return ev, nil
}

// occurredAt parses an RFC 3339 time with an offset and checks it against
// the window around receivedAt.
func (d *Decoder) occurredAt(raw []byte, receivedAt time.Time) (time.Time, *Rejection) {
	s, rej := requiredString(raw, "occurred_at", 64)
	if rej != nil {
		return time.Time{}, rej
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, reject(ReasonInvalidTime, "occurred_at",
			"occurred_at %q must be RFC 3339 with an offset, e.g. 2026-03-01T09:30:00.250Z or 2026-03-01T10:30:00+01:00", clip(s))
	}
	t = t.UTC().Truncate(time.Millisecond)
	if t.After(receivedAt.Add(d.cfg.MaxFuture)) {
		return time.Time{}, reject(ReasonTimeInFuture, "occurred_at",
			"occurred_at %s is more than %s after the event arrived (%s); check the producer's clock and offset",
			t.Format(timeLayout), d.cfg.MaxFuture, receivedAt.Format(timeLayout))
	}
	if t.Before(receivedAt.Add(-d.cfg.HotRetention)) {
		return time.Time{}, reject(ReasonTimeTooOld, "occurred_at",
			"occurred_at %s is older than the hot retention (%d days); such events cannot be stored",
			t.Format(timeLayout), int(d.cfg.HotRetention/(24*time.Hour)))
	}
	return t, nil
}

// scanEnvelope validates data, one JSON object, in a single pass and picks
// out the envelope fields. Keys match exactly; other members are ignored,
// and an envelope field given twice is refused (which value was meant is
// unknowable).
func scanEnvelope(data []byte) (rawEnvelope, error) {
	var raw rawEnvelope
	err := scanObject(data, func(m member) error {
		var f *[]byte
		switch string(m.key) {
		case "id":
			f = &raw.ID
		case "tenant_id":
			f = &raw.TenantID
		case "type":
			f = &raw.Type
		case "user_id":
			f = &raw.UserID
		case "occurred_at":
			f = &raw.OccurredAt
		case "session_id":
			f = &raw.SessionID
		case "properties":
			f = &raw.Properties
			raw.propertiesSpaced = m.spaced
		default:
			return nil
		}
		if *f != nil {
			return fmt.Errorf("field %q appears twice", m.key)
		}
		*f = m.value
		return nil
	})
	return raw, err
}

// properties returns the compact object, {} when absent or null. raw is
// valid JSON already; when it is compact as sent it is returned as it is
// (sharing the envelope's memory).
func properties(raw []byte, spaced bool) (json.RawMessage, *Rejection) {
	if isNull(raw) {
		return json.RawMessage("{}"), nil
	}
	if raw[0] != '{' {
		return nil, reject(ReasonInvalidProperties, "properties", "properties must be a JSON object (or absent)")
	}
	if !spaced {
		return raw, nil
	}
	return compactJSON(make([]byte, 0, len(raw)), raw), nil
}

// requiredString reads a non-empty JSON string of at most max bytes.
func requiredString(raw []byte, field string, max int) (string, *Rejection) {
	if isNull(raw) {
		return "", reject(ReasonMissingField, field, "%s is required", field)
	}
	s, rej := stringField(raw, field, max)
	if rej == nil && s == "" {
		return "", reject(ReasonMissingField, field, "%s must not be empty", field)
	}
	return s, rej
}

// stringField reads a JSON string of at most max bytes without control
// characters.
func stringField(raw []byte, field string, max int) (string, *Rejection) {
	if raw[0] != '"' {
		return "", reject(ReasonInvalidField, field, "%s must be a JSON string", field)
	}
	s := unquote(raw)
	if len(s) > max {
		return "", reject(ReasonInvalidField, field, "%s has %d bytes; the limit is %d", field, len(s), max)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return "", reject(ReasonInvalidField, field, "%s must be printable UTF-8 text", field)
		}
	}
	return s, nil
}

// validTenant checks the one tenant-id rule (platform/tenantid).
func validTenant(s string) *Rejection {
	if !tenantid.Valid(s) {
		return reject(ReasonInvalidTenant, "tenant_id", "tenant_id %q must be %s", clip(s), tenantid.Rule)
	}
	return nil
}

// validType checks [a-z0-9_.]{1,64} with no empty dot-separated segment.
func validType(s string) *Rejection {
	ok := len(s) > 0 && len(s) <= maxTypeLen && s[0] != '.' && s[len(s)-1] != '.' && !strings.Contains(s, "..")
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.'
	}
	if !ok {
		return reject(ReasonInvalidType, "type",
			"type %q must be 1-%d of a-z, 0-9, _ and . with no empty segment, e.g. lesson.completed", clip(s), maxTypeLen)
	}
	return nil
}

func isNull(raw []byte) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// clip shortens text quoted back in a message.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return strings.ToValidUTF8(s, "?")
	}
	return strings.ToValidUTF8(s[:max], "?") + "…"
}
