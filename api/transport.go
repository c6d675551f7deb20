package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/learnhub/analytics-service/platform/reqid"
)

// DefaultMaxBodyBytes bounds a /graphql request body when
// GraphQLConfig.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 1 << 20

// Media types of GraphQL over HTTP.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// codeBadRequest is the extensions.code of a request that is not a
// well-formed GraphQL-over-HTTP request (bad JSON, a batch, a wrong method
// or media type, a body over the limit).
const codeBadRequest = "BAD_REQUEST"

// httpTransport serves GraphQL over HTTP (GET and POST) as the
// GraphQL-over-HTTP specification describes it, which gqlgen's transports do
// not quite: a request error (parse, validation, variable coercion, a limit)
// answers 200 with `errors` to an application/json client and 400 without a
// `data` entry to an application/graphql-response+json one; a malformed
// request answers 4xx with code BAD_REQUEST and a message saying what to
// send instead; the body is read up to a limit (413 beyond).
type httpTransport struct {
	maxBody int64
	log     *slog.Logger
}

var _ graphql.Transport = httpTransport{}

// Supports takes every non-WebSocket request other than OPTIONS and HEAD
// (gqlgen's Options transport answers those), so a wrong method or media
// type gets a precise answer instead of gqlgen's "transport not supported".
func (t httpTransport) Supports(r *http.Request) bool {
	return r.Method != http.MethodOptions && r.Method != http.MethodHead && r.Header.Get("Upgrade") == ""
}

func (t httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		t.refuse(w, r, mediaJSON, http.StatusNotAcceptable,
			fmt.Sprintf("cannot answer Accept %q; accept %s or %s", r.Header.Get("Accept"), mediaGraphQLResponse, mediaJSON))
		return
	}
	start := graphql.Now()
	var params *graphql.RawParams
	var status int
	var msg string
	switch r.Method {
	case http.MethodPost:
		params, status, msg = t.readPOST(r)
	case http.MethodGet:
		params, status, msg = readGET(r)
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		status, msg = http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not supported; POST a JSON body (or GET a query)", r.Method)
	}
	if status == 0 && params.Query == "" && params.Extensions["persistedQuery"] == nil {
		status, msg = http.StatusBadRequest, `the request has no "query"; send {"query": "{ viewer { tenant } }"} (or a persisted query hash)`
	}
	if status != 0 {
		t.refuse(w, r, media, status, msg)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := r.Context()
	oc, errList := exec.CreateOperationContext(ctx, params)
	if errList != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, oc), errList)
		resp.Data = nil
		t.logClientErrors(r, resp.Errors)
		status := http.StatusOK
		if media == mediaGraphQLResponse {
			status = http.StatusBadRequest
		}
		writeResponse(w, media, status, resp, false)
		return
	}
	if r.Method == http.MethodGet && oc.Operation.Operation != ast.Query {
		w.Header().Set("Allow", "POST")
		t.refuse(w, r, media, http.StatusMethodNotAllowed,
			fmt.Sprintf("a %s cannot be sent with GET; POST it", oc.Operation.Operation))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	writeResponse(w, media, http.StatusOK, responses(ctx), true)
}

// readPOST decodes a POST body: application/json, one operation (no batch),
// at most maxBody bytes.
func (t httpTransport) readPOST(r *http.Request) (*graphql.RawParams, int, string) {
	ct := r.Header.Get("Content-Type")
	if ct != mediaJSON && !isJSONMedia(ct) {
		return nil, http.StatusUnsupportedMediaType,
			fmt.Sprintf("Content-Type %q is not supported; send Content-Type: %s", ct, mediaJSON)
	}
	body, err := readBody(r, t.maxBody)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body exceeds %d bytes; send a shorter query (persisted queries send only a hash) or fewer variables", t.maxBody)
	}
	if err != nil {
		return nil, http.StatusBadRequest, "could not read the request body"
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return nil, http.StatusBadRequest,
			"batched operations are not supported; send one JSON object {\"query\", \"variables\", \"operationName\"} per request"
	}
	if params, ok := decodeWithoutVariables(body); ok {
		return params, 0, ""
	}
	return decodeParams(body)
}

// decodeParams decodes a GraphQL request body, numbers in variables and
// extensions as json.Number, or says what is wrong with it.
func decodeParams(body []byte) (*graphql.RawParams, int, string) {
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		return nil, http.StatusBadRequest, "the request body is not a GraphQL request: " + jsonProblem(err) +
			`; send a JSON object like {"query": "{ viewer { tenant } }", "variables": {}}`
	}
	if dec.More() {
		return nil, http.StatusBadRequest, "the request body holds more than one JSON value; send exactly one object"
	}
	return params, 0, ""
}

// bareRequest is a POST body holding neither variables nor extensions,
// the common request of an application with fixed queries.
type bareRequest struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
}

// decodeWithoutVariables decodes a body that names neither variables nor
// extensions with json.Unmarshal: no json.Decoder and its buffer copy,
// which only UseNumber in the variables needs (a third fewer bytes
// allocated per request). It declines (false) any body it is not sure to
// decode as readPOST's json.Decoder would, which then decodes it and
// words any error.
func decodeWithoutVariables(body []byte) (*graphql.RawParams, bool) {
	if bytes.Contains(body, []byte(`"variables"`)) || bytes.Contains(body, []byte(`"extensions"`)) {
		return nil, false
	}
	var b bareRequest
	if json.Unmarshal(body, &b) != nil || !isNull(b.Variables) || !isNull(b.Extensions) {
		return nil, false // a JSON error, or variables under another spelling (keys match case-insensitively)
	}
	return &graphql.RawParams{Query: b.Query, OperationName: b.OperationName}, true
}

// isNull reports whether a raw JSON value is absent or null.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// isJSONMedia reports whether a Content-Type names application/json (with
// any parameters).
func isJSONMedia(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return ct != "" && err == nil && mt == mediaJSON
}

// readBody reads r's body up to limit bytes, in one allocation when the
// client said its length.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(nil, r.Body, limit)
	n := r.ContentLength
	if n <= 0 || n > limit {
		return io.ReadAll(body)
	}
	buf := make([]byte, 0, n+1) // +1: room to see EOF without growing
	for {
		m, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return buf, err
		case len(buf) == cap(buf): // longer than announced
			rest, err := io.ReadAll(body)
			return append(buf, rest...), err
		}
	}
}

// readGET reads the operation from the query string.
func readGET(r *http.Request) (*graphql.RawParams, int, string) {
	q := r.URL.Query()
	params := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	for name, dst := range map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
		raw := q.Get(name)
		if raw == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil {
			return nil, http.StatusBadRequest, fmt.Sprintf("query parameter %q must be a JSON object: %s", name, jsonProblem(err))
		}
	}
	return params, 0, ""
}

// jsonProblem describes a JSON decoding error without echoing the input.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d (%s)", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("%q must not be a JSON %s", typ.Field, typ.Value)
		}
		return fmt.Sprintf("expected a JSON object, got a JSON %s", typ.Value)
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early"
	default:
		return "invalid JSON"
	}
}

// refuse answers a request that is not a well-formed GraphQL-over-HTTP
// request with status and a BAD_REQUEST error saying what to send.
func (t httpTransport) refuse(w http.ResponseWriter, r *http.Request, media string, status int, msg string) {
	e := &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": codeBadRequest}}
	if id := reqid.From(r.Context()); id != "" {
		e.Extensions["requestId"] = id
	}
	t.logClientErrors(r, gqlerror.List{e})
	writeResponse(w, media, status, &graphql.Response{Errors: gqlerror.List{e}}, false)
}

// logClientErrors records a refused request at INFO: the client's mistake,
// not ours (ERROR stays for our own faults).
func (t httpTransport) logClientErrors(r *http.Request, list gqlerror.List) {
	if len(list) == 0 {
		return
	}
	code, _ := list[0].Extensions["code"].(string)
	msg := list[0].Message
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	t.log.InfoContext(r.Context(), "graphql request refused", "code", code, "message", msg,
		"errors", len(list), "request_id", reqid.From(r.Context()))
}

// writeResponse writes resp as media; withData keeps the `data` entry
// (execution results), otherwise it is left out (request errors).
func writeResponse(w http.ResponseWriter, media string, status int, resp *graphql.Response, withData bool) {
	if withData && dataOnly(resp) {
		// The executor's data is compact JSON already: no need to have
		// encoding/json re-scan it, nor to copy it (what json.Marshal would
		// write, byte for byte).
		data := []byte(resp.Data)
		if data == nil {
			data = []byte("null")
		}
		writeHeader(w, media, status, len(`{"data":}`)+len(data))
		_, _ = io.WriteString(w, `{"data":`)
		_, _ = w.Write(data)
		_, _ = io.WriteString(w, "}")
		return
	}
	var b []byte
	var err error
	switch {
	case withData:
		b, err = json.Marshal(resp)
	default:
		b, err = json.Marshal(struct {
			Errors     gqlerror.List  `json:"errors"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Errors, resp.Extensions})
	}
	if err != nil {
		panic(fmt.Errorf("api: encode GraphQL response: %w", err)) // recovered as INTERNAL by recoverHTTP
	}
	writeHeader(w, media, status, len(b))
	_, _ = w.Write(b)
}

// writeHeader writes the status and the headers of a body of n bytes of media.
func writeHeader(w http.ResponseWriter, media string, status, n int) {
	contentType := mediaJSON + "; charset=utf-8"
	if media == mediaGraphQLResponse {
		contentType = mediaGraphQLResponse + "; charset=utf-8"
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(status)
}

// dataOnly reports whether resp holds nothing but data (the common answer).
func dataOnly(resp *graphql.Response) bool {
	return len(resp.Errors) == 0 && resp.Label == "" && len(resp.Path) == 0 && resp.HasNext == nil && len(resp.Extensions) == 0
}

// negotiate picks the response media type from Accept: the first listed
// type we serve (q=0 excluded); no header or a wildcard means
// application/json, the type every client understands.
func negotiate(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch mt {
		case mediaGraphQLResponse:
			return mediaGraphQLResponse, true
		case mediaJSON, "application/*", "*/*":
			return mediaJSON, true
		}
	}
	return "", false
}
