package queue

import (
	"encoding/json"
	"fmt"
)

// envelope is the task payload on the wire.
type envelope struct {
	Tenant string          `json:"tenant,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	// Trace is the enqueuer's W3C trace context (traceparent, tracestate),
	// so the job's spans continue the request's trace. Not part of the
	// TaskID: the same work enqueued from two traces is still one task.
	Trace map[string]string `json:"trace,omitempty"`
}

// jsonEnvelope is the task payload: the tenant, the params and the trace.
func jsonEnvelope(tenant string, params json.RawMessage, trace map[string]string) ([]byte, error) {
	return json.Marshal(envelope{Tenant: tenant, Params: params, Trace: trace})
}

// decodeEnvelope reads a payload written by jsonEnvelope. An empty payload
// (a task enqueued by hand) is system work with no params.
func decodeEnvelope(payload []byte) (envelope, error) {
	var e envelope
	if len(payload) == 0 {
		return e, nil
	}
	if err := json.Unmarshal(payload, &e); err != nil {
		return e, fmt.Errorf("task payload is not a jobs envelope: %w", err)
	}
	return e, nil
}
