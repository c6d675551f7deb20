package api

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/learnhub/analytics-service/platform/errs"
)

// exportJobFields is the job shape both export routes answer: the GraphQL
// ExportJob, so REST and GraphQL clients see the same object.
const exportJobFields = `id status format source rows bytes error url urlExpiresAt fileName requestedBy createdAt startedAt finishedAt`

const (
	exportCreateQuery = `mutation($in: ExportInput!) { exportQuery(input: $in) { ` + exportJobFields + ` } }`
	exportGetQuery    = `query($id: ID!) { exportJob(id: $id) { ` + exportJobFields + ` } }`
)

// maxExportBody bounds the JSON body of POST /v1/exports.
const maxExportBody = 1 << 20

// restError is the body of every refused REST export request:
// {"error":{"code","message","field"}}, code as GraphQL's extensions.code.
type restError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// retryAfter (seconds) becomes a Retry-After header on 429.
	retryAfter float64
}

func writeRESTError(w http.ResponseWriter, status int, e restError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.retryAfter))))
	}
	writeJSON(w, status, map[string]restError{"error": e})
}

// ExportCreate serves POST /v1/exports: the body is a GraphQL ExportInput
// as JSON; the export is queued through the exportQuery mutation with the
// caller's own credentials (role ANALYST, tenant from the token) and
// answered 201 with the job and a Location header.
func ExportCreate(gql http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxExportBody))
		if err != nil {
			writeRESTError(w, http.StatusBadRequest, restError{Code: errs.KindInvalid.String(),
				Message: "the body could not be read or exceeds 1 MiB"})
			return
		}
		var in map[string]any
		if err := json.Unmarshal(raw, &in); err != nil || in == nil {
			writeRESTError(w, http.StatusBadRequest, restError{Code: errs.KindInvalid.String(),
				Message: `the body must be a JSON object shaped like ExportInput, e.g. {"events":{"timeRange":{"last":"1d"}},"format":"CSV"}`})
			return
		}
		job, status, rerr := runGraphQLField(gql, r, exportCreateQuery, map[string]any{"in": in}, "exportQuery")
		if rerr != nil {
			writeRESTError(w, status, *rerr)
			return
		}
		var ref struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(job, &ref)
		w.Header().Set("Location", "/v1/exports/"+ref.ID)
		writeRaw(w, http.StatusCreated, job)
	})
}

// ExportGet serves GET /v1/exports/{id}: status, rows written so far and,
// once SUCCEEDED, a freshly signed download URL. Another tenant's job (or
// an unknown id) is 404.
func ExportGet(gql http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		job, status, rerr := runGraphQLField(gql, r, exportGetQuery, map[string]any{"id": id}, "exportJob")
		if rerr != nil {
			writeRESTError(w, status, *rerr)
			return
		}
		if string(job) == "null" {
			writeRESTError(w, http.StatusNotFound, restError{Code: errs.KindNotFound.String(),
				Message: "no export " + id + " for this tenant", Field: "id"})
			return
		}
		writeRaw(w, http.StatusOK, job)
	})
}

// runGraphQLField runs one operation through the GraphQL handler with r's
// context (verified principal, request id) and returns the named field of
// data, or the first error as a REST error with its HTTP status.
func runGraphQLField(gql http.Handler, r *http.Request, query string, vars map[string]any, field string) (json.RawMessage, int, *restError) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	inner, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, "/graphql", bytes.NewReader(body))
	inner.Header.Set("Content-Type", "application/json")
	inner.RemoteAddr = r.RemoteAddr
	rec := httptest.NewRecorder()
	gql.ServeHTTP(rec, inner)

	var res struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		status := rec.Code
		if status < 400 {
			status = http.StatusInternalServerError
		}
		return nil, status, &restError{Code: errs.KindInternal.String(), Message: "internal error"}
	}
	if len(res.Errors) > 0 {
		e := res.Errors[0]
		code, _ := e.Extensions["code"].(string)
		fieldName, _ := e.Extensions["field"].(string)
		status := statusFor(code)
		if strings.HasPrefix(code, "GRAPHQL_") { // the body did not fit ExportInput
			status = http.StatusBadRequest
			code = errs.KindInvalid.String()
		}
		retry, _ := e.Extensions["retryAfterSeconds"].(float64)
		return nil, status, &restError{Code: code, Message: e.Message, Field: fieldName, retryAfter: retry}
	}
	return res.Data[field], http.StatusOK, nil
}

func writeRaw(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}
