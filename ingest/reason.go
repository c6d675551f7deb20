package ingest

import "fmt"

// Reason is the machine code of a rejected envelope. Codes are part of the
// public contract (docs/events.md, the dead_letters table, HTTP answers):
// add new ones, never rename.
type Reason string

// The rejection reasons.
const (
	ReasonTooLarge          Reason = "too_large"          // the payload exceeds the size limit
	ReasonInvalidJSON       Reason = "invalid_json"       // not a JSON object
	ReasonMissingField      Reason = "missing_field"      // a required field is absent or empty
	ReasonInvalidField      Reason = "invalid_field"      // a field has the wrong JSON type or is too long
	ReasonInvalidTenant     Reason = "invalid_tenant"     // tenant_id outside [a-z0-9][a-z0-9_-]{0,63} or reserved
	ReasonInvalidType       Reason = "invalid_type"       // type outside [a-z0-9_.]{1,64} or with an empty segment
	ReasonInvalidSubject    Reason = "invalid_subject"    // the subject is not events.<tenant>.<type>
	ReasonTenantMismatch    Reason = "tenant_mismatch"    // tenant_id differs from the subject's (or the token's)
	ReasonTypeMismatch      Reason = "type_mismatch"      // type differs from the subject's
	ReasonInvalidTime       Reason = "invalid_time"       // occurred_at is not RFC 3339 with an offset
	ReasonTimeInFuture      Reason = "time_in_future"     // occurred_at more than the allowed skew ahead
	ReasonTimeTooOld        Reason = "time_too_old"       // occurred_at older than the hot retention
	ReasonInvalidProperties Reason = "invalid_properties" // properties is not a JSON object
	ReasonInvalidProperty   Reason = "invalid_property"   // a known type's property has the wrong value
	ReasonRejectedByStore   Reason = "rejected_by_store"  // ClickHouse refused the row itself (not a transient failure)
	ReasonTooDeep           Reason = "too_deep"           // objects and arrays nested deeper than MaxDepth (128) levels
)

// Rejection says why an envelope was refused: a machine code, the field at
// fault (when there is one) and a message saying what would be right.
type Rejection struct {
	Code    Reason
	Field   string
	Message string
}

// Error implements error.
func (r *Rejection) Error() string {
	if r.Field != "" {
		return fmt.Sprintf("%s (%s): %s", r.Code, r.Field, r.Message)
	}
	return fmt.Sprintf("%s: %s", r.Code, r.Message)
}

func reject(code Reason, field, format string, args ...any) *Rejection {
	return &Rejection{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}
