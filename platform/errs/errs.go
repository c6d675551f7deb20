// Package errs gives every error in the service a kind and the operation that
// failed, so the edges (GraphQL, HTTP, jobs) can translate kinds into codes
// without parsing messages. Model: asynq internal/errors.
package errs

import "errors"

// Kind classifies an error by what the caller can do about it.
type Kind int

// The kinds, from most to least specific. KindInternal is the zero value on
// purpose: an error nobody classified is never shown to a client in detail.
const (
	KindInternal        Kind = iota // a bug or an unexpected failure; details stay in the log
	KindInvalid                     // the request is wrong; the message says what to change
	KindUnauthenticated             // no valid credentials
	KindForbidden                   // valid credentials, not allowed
	KindNotFound                    // the thing does not exist (or is not visible to the caller)
	KindConflict                    // a concurrent change or a stale version
	KindRateLimited                 // too many requests or too many concurrent ones
	KindUnavailable                 // a dependency is down; retrying later may work
)

// String returns the kind's GraphQL extensions.code.
func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "BAD_USER_INPUT"
	case KindUnauthenticated:
		return "UNAUTHENTICATED"
	case KindForbidden:
		return "FORBIDDEN"
	case KindNotFound:
		return "NOT_FOUND"
	case KindConflict:
		return "CONFLICT"
	case KindRateLimited:
		return "RATE_LIMITED"
	case KindUnavailable:
		return "UNAVAILABLE"
	default:
		return "INTERNAL"
	}
}

// Error is a classified error. Msg is safe to show to a client; Err is the
// cause, which may carry driver details and is only logged.
type Error struct {
	Op   string // the operation, e.g. "store.Query"
	Kind Kind
	Msg  string // client-safe message; empty means "use a generic one for the kind"
	Err  error  // underlying cause, never shown to clients
	// Fields are extra client-safe details added to extensions (e.g. "field").
	Fields map[string]any
}

// E builds an error of kind k for operation op with a client-safe message.
func E(op string, k Kind, msg string) *Error {
	return &Error{Op: op, Kind: k, Msg: msg}
}

// Wrap classifies err under op with kind k; msg is client-safe (may be empty).
func Wrap(op string, k Kind, err error, msg string) *Error {
	return &Error{Op: op, Kind: k, Msg: msg, Err: err}
}

// Invalid is shorthand for a bad-input error naming the offending field.
func Invalid(op, field, msg string) *Error {
	return &Error{Op: op, Kind: KindInvalid, Msg: msg, Fields: map[string]any{"field": field}}
}

// Error implements error. It includes the cause for logs.
func (e *Error) Error() string {
	s := e.Op + ": " + e.Kind.String()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes the cause to errors.Is / errors.As.
func (e *Error) Unwrap() error { return e.Err }

// With adds a client-safe detail and returns e for chaining.
func (e *Error) With(key string, value any) *Error {
	if e.Fields == nil {
		e.Fields = map[string]any{}
	}
	e.Fields[key] = value
	return e
}

// KindOf returns the kind of the outermost classified error in err's chain,
// or KindInternal when nothing classified it.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Is reports whether err is classified as kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// PublicMessage returns the message a client may see: the classified error's
// Msg, or a generic sentence for its kind. Internal details never leak.
func PublicMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Kind == KindInternal {
			return "internal error; the request id in the response identifies it in the server log"
		}
		if e.Msg != "" {
			return e.Msg
		}
		return generic(e.Kind)
	}
	return generic(KindInternal)
}

// PublicFields returns the client-safe details of the outermost classified error.
func PublicFields(err error) map[string]any {
	var e *Error
	if errors.As(err, &e) && e.Kind != KindInternal {
		return e.Fields
	}
	return nil
}

func generic(k Kind) string {
	switch k {
	case KindInvalid:
		return "invalid input"
	case KindUnauthenticated:
		return "authentication required: send a valid bearer token"
	case KindForbidden:
		return "your role does not allow this operation"
	case KindNotFound:
		return "not found"
	case KindConflict:
		return "conflict with a concurrent change; reload and retry"
	case KindRateLimited:
		return "too many requests; retry later"
	case KindUnavailable:
		return "a dependency is unavailable; retry later"
	default:
		return "internal error; the request id in the response identifies it in the server log"
	}
}
