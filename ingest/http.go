package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

// Defaults for the zero values of HTTPConfig.
const (
	DefaultMaxBodyBytes = 8 << 20
	DefaultMaxEvents    = 10_000
)

// HTTPConfig limits the HTTP ingest endpoint.
type HTTPConfig struct {
	// MaxBodyBytes bounds a request body; zero means DefaultMaxBodyBytes
	// (8 MiB). Larger bodies get 413.
	MaxBodyBytes int64
	// MaxEvents bounds the events of one request; zero means
	// DefaultMaxEvents (10 000). More get 413.
	MaxEvents int
}

// HTTPResult is the answer of POST /v1/events.
type HTTPResult struct {
	Accepted int         `json:"accepted"`
	Rejected int         `json:"rejected"`
	Errors   []LineError `json:"errors"`
}

// LineError says why one event of a request was refused. Line is 1-based:
// the array element or the NDJSON line.
type LineError struct {
	Line    int    `json:"line"`
	Reason  Reason `json:"reason"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// httpError is the body of a request refused as a whole.
type httpError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// HTTPDeadLetterSubject starts the subject recorded for a dead letter of
// the HTTP endpoint ("POST /v1/events line 3"): the line came in over HTTP,
// not on a NATS subject.
const HTTPDeadLetterSubject = "POST /v1/events"

// reasonUnavailable marks an event the firehose could not store (retry it).
const reasonUnavailable Reason = "unavailable"

// HTTPHandler serves POST /v1/events: a JSON array of envelopes or NDJSON
// (one per line), for the tenant of the verified token (auth.Middleware
// runs before it). tenant_id may be omitted; a different one is refused
// for that event. Refused events become dead letters through letters (the
// original line, the reason, the time) before the valid ones are published
// on the firehose and awaited; the answer is 200 when all were accepted,
// 207 when some were refused, 422 when none was accepted, with {accepted,
// rejected, errors:[{line, reason, field, message}]}; 401 without a token,
// 403 for a token without role ingest (or admin), 400 for a body that is
// not an array or NDJSON or nests too deep, 413 over the limits, 503 when
// the firehose or the dead-letter store is down (retry: publishing and dead
// letters are idempotent).
func HTTPHandler(pub *Publisher, dec *Decoder, letters *DeadLetterWriter, cfg HTTPConfig) http.Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, httpError{Error: "use POST", Code: errs.KindInvalid.String()})
			return
		}
		p, err := auth.Require(r.Context(), auth.RoleIngest)
		if errs.Is(err, errs.KindForbidden) {
			writeJSON(w, http.StatusForbidden, httpError{Error: errs.PublicMessage(err) +
				"; sending events takes a token with role ingest (or admin): reading roles cannot write", Code: errs.KindForbidden.String()})
			return
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeJSON(w, http.StatusUnauthorized, httpError{Error: errs.PublicMessage(err), Code: errs.KindUnauthenticated.String()})
			return
		}
		tenant := p.Tenant
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, cfg.MaxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeJSON(w, http.StatusRequestEntityTooLarge, httpError{
					Error: "the body exceeds " + strconv.Itoa(int(cfg.MaxBodyBytes)) + " bytes; send fewer events per request", Code: errs.KindInvalid.String()})
				return
			}
			writeJSON(w, http.StatusBadRequest, httpError{Error: "could not read the body", Code: errs.KindInvalid.String()})
			return
		}
		items, perr := splitBody(body)
		if perr != "" {
			writeJSON(w, http.StatusBadRequest, httpError{Error: perr, Code: errs.KindInvalid.String()})
			return
		}
		if len(items) > cfg.MaxEvents {
			writeJSON(w, http.StatusRequestEntityTooLarge, httpError{
				Error: "a request may carry at most " + strconv.Itoa(cfg.MaxEvents) + " events", Code: errs.KindInvalid.String()})
			return
		}
		res := HTTPResult{Errors: []LineError{}}
		now := time.Now()
		var events []Event
		var lines []int
		var refused []DeadLetter
		bodyID := httpBodyID(tenant, body)
		for _, it := range items {
			ev, rej := dec.DecodeForTenant(tenant, it.data, now)
			if rej != nil {
				res.Errors = append(res.Errors, LineError{Line: it.line, Reason: rej.Code, Field: rej.Field, Message: rej.Message})
				refused = append(refused, httpDeadLetter(tenant, bodyID, it, rej, now, dec.MaxSize()))
				continue
			}
			events = append(events, ev)
			lines = append(lines, it.line)
		}
		if err := letters.Write(r.Context(), refused, "http/"+bodyID); err != nil {
			if r.Context().Err() == nil {
				writeJSON(w, http.StatusServiceUnavailable, httpError{
					Error: "the refused events could not be recorded; retry the request (nothing is stored twice)", Code: errs.KindUnavailable.String()})
			}
			return
		}
		results, err := pub.Publish(r.Context(), events)
		if err != nil {
			return // the client went away
		}
		unavailable := 0
		for i, perr := range results {
			if perr != nil {
				unavailable++
				res.Errors = append(res.Errors, LineError{Line: lines[i], Reason: reasonUnavailable, Message: errs.PublicMessage(perr)})
				continue
			}
			res.Accepted++
		}
		res.Rejected = len(res.Errors)
		status := http.StatusOK
		switch {
		case res.Accepted == 0 && unavailable > 0:
			status = http.StatusServiceUnavailable
		case res.Accepted == 0 && res.Rejected > 0:
			status = http.StatusUnprocessableEntity
		case res.Rejected > 0:
			status = http.StatusMultiStatus
		}
		writeJSON(w, status, res)
	})
}

// bodyItem is one envelope of a request with its 1-based position.
type bodyItem struct {
	line int
	data []byte
}

// httpBodyID identifies a request body of a tenant: the base of its dead
// letters' ids, so a retried request stores each of them once.
func httpBodyID(tenant string, body []byte) string {
	sum := sha256.Sum256(body)
	return tenant + ":" + hex.EncodeToString(sum[:16])
}

// httpDeadLetter is the dead letter of a refused request line. Its subject
// names the endpoint and the line; a line over the envelope size limit is
// kept up to the limit (the firehose carries nothing larger).
func httpDeadLetter(tenant, bodyID string, it bodyItem, rej *Rejection, at time.Time, maxSize int) DeadLetter {
	payload := it.data
	if len(payload) > maxSize {
		payload = payload[:maxSize]
	}
	line := strconv.Itoa(it.line)
	return DeadLetter{
		SourceID: "http:" + bodyID + ":" + line, TenantID: tenant, ReceivedAt: at.UTC().Truncate(time.Millisecond),
		Subject: HTTPDeadLetterSubject + " line " + line, Reason: rej.Code, Message: rej.Error(), Payload: payload,
	}
}

// splitBody reads a JSON array of objects or NDJSON. A broken array is
// refused as a whole (its elements cannot be told apart); NDJSON lines are
// judged one by one, and blank lines are skipped. A body nesting deeper
// than an envelope may (MaxDepth) is refused as a whole before anything
// parses it: saying "accepted" for it would be untrue (the store refuses
// it) and parsing it costs a stack frame per level.
func splitBody(body []byte) ([]bodyItem, string) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, "the body is empty: send a JSON array of events or one event per line (NDJSON)"
	}
	array := trimmed[0] == '['
	limit := MaxDepth
	if array {
		limit++ // the array holding the events
	}
	if at, deep := nestedBeyond(body, limit, !array); deep {
		return nil, fmt.Sprintf("the body nests objects and arrays more than %d levels deep inside an event (line %d, byte %d): "+
			"the store cannot keep deeper properties; flatten them", MaxDepth, bytes.Count(body[:at], []byte("\n"))+1, at)
	}
	if array {
		var raws []json.RawMessage
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, "the body starts with [ but is not a valid JSON array: send an array of events or NDJSON"
		}
		items := make([]bodyItem, len(raws))
		for i, r := range raws {
			items[i] = bodyItem{line: i + 1, data: r}
		}
		return items, ""
	}
	var items []bodyItem
	for i, line := range bytes.Split(body, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		items = append(items, bodyItem{line: i + 1, data: line})
	}
	return items, ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
