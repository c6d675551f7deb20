package queue

import (
	"encoding/json"
	"fmt"
)

// envelope is the task payload on the wire.
type envelope struct {
	Tenant string          `json:"tenant,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
}

// jsonEnvelope is the task payload: the tenant and the params.
func jsonEnvelope(tenant string, params json.RawMessage) ([]byte, error) {
	return json.Marshal(envelope{Tenant: tenant, Params: params})
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
