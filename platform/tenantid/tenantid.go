// Package tenantid is the one rule for tenant ids, kept by everything that
// accepts one: token verification and signing (platform/auth) and the event
// envelope (ingest). A token for a tenant ingest refuses would name a tenant
// that can never hold data, and "dlq" would address the dead-letter subjects.
package tenantid

import "fmt"

// Limits of a tenant id.
const (
	// MaxLen is the longest tenant id.
	MaxLen = 64
	// Reserved cannot be a tenant: events.dlq.… are the dead letters' subjects.
	Reserved = "dlq"
)

// Rule says in words what a tenant id must be, for messages.
const Rule = "1-64 of a-z, 0-9, _ and -, starting with a letter or digit, and not \"dlq\""

// Valid reports whether id is a tenant id: 1-64 bytes of a-z, 0-9, '_' and
// '-', starting with a letter or digit, and not Reserved. It allocates
// nothing (ingest calls it for every event).
func Valid(id string) bool {
	ok := len(id) > 0 && len(id) <= MaxLen && id != Reserved
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '_' || c == '-')
	}
	return ok
}

// Problem describes what is wrong with id, or returns "" when Valid(id).
// The id is quoted (and clipped) only when it is short enough to read.
func Problem(id string) string {
	switch {
	case Valid(id):
		return ""
	case id == "":
		return "is empty"
	case len(id) > MaxLen:
		return fmt.Sprintf("is %d characters long; the limit is %d", len(id), MaxLen)
	case id == Reserved:
		return fmt.Sprintf("%q is reserved (dead letters); use another id", id)
	}
	return fmt.Sprintf("%q must be %s", id, Rule)
}
