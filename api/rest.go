package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
)

// dashboardQuery is what GET /v1/dashboards/{idOrSlug} answers: the same
// GraphQL field a frontend would ask for, so both paths share auth, limits,
// caching and shape.
const dashboardQuery = `query($id: String!, $tr: TimeRange) {
  dashboard(idOrSlug: $id) {
    id slug title description timezone version
    widgets { id title kind metricKeys dimensions grain limit position { x y w h } }
    render(timeRange: $tr) {
      from to
      widgets {
        widgetId notices computedAt freshUntil cached error { code message }
        results { metric { key name unit format } path grain dimensions
          totals { value compareValue delta }
          series { values total { value } points { bucket value } } }
      }
    }
  }
}`

// DashboardAlias serves GET /v1/dashboards/{idOrSlug}[?last=30d | ?from=…&to=…]:
// a thin REST alias that runs the dashboard render query through the GraphQL
// handler with the caller's own credentials.
func DashboardAlias(gql http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vars := map[string]any{"id": r.PathValue("idOrSlug")}
		q := r.URL.Query()
		tr := map[string]any{}
		for _, k := range []string{"last", "from", "to"} {
			if v := q.Get(k); v != "" {
				tr[k] = v
			}
		}
		if len(tr) > 0 {
			vars["tr"] = tr
		}
		body, _ := json.Marshal(map[string]any{"query": dashboardQuery, "variables": vars})
		inner, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, "/graphql", bytes.NewReader(body))
		inner.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		gql.ServeHTTP(rec, inner)

		var res struct {
			Data struct {
				Dashboard json.RawMessage `json:"dashboard"`
			} `json:"data"`
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		status := http.StatusOK
		if err := json.Unmarshal(rec.Body.Bytes(), &res); err == nil {
			switch {
			case len(res.Errors) > 0:
				status = statusFor(res.Errors[0].Extensions["code"])
			case string(res.Data.Dashboard) == "null":
				status = http.StatusNotFound
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// statusFor maps an extensions.code to the HTTP status of REST aliases.
func statusFor(code any) int {
	switch code {
	case "UNAUTHENTICATED":
		return http.StatusUnauthorized
	case "FORBIDDEN":
		return http.StatusForbidden
	case "NOT_FOUND":
		return http.StatusNotFound
	case "BAD_USER_INPUT":
		return http.StatusBadRequest
	case "RATE_LIMITED":
		return http.StatusTooManyRequests
	case "CONFLICT":
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}
