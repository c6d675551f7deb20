package store

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Exception is an error reported by the ClickHouse engine itself. Backends
// wrap it in an *errs.Error; callers that must react to a specific engine
// error (e.g. code 60, unknown table) use errors.As.
type Exception struct {
	Code    int
	Name    string // e.g. "SYNTAX_ERROR"; may be empty on old servers
	Message string
}

// Engine error codes the service reacts to.
const (
	CodeSyntaxError       = 62
	CodeUnknownTable      = 60
	CodeUnknownIdentifier = 47
	CodeUnknownDatabase   = 81
	CodeTimeoutExceeded   = 159
	CodeTooManyRows       = 158
	CodeTooManyRowsBytes  = 396
	CodeMemoryLimit       = 241
	CodeReadonly          = 164
	CodeQueryWasCancelled = 394
)

var exceptionRe = regexp.MustCompile(`Code: (\d+)\.\s*(?:DB::Exception:\s*)?(.*?)(?:\s*\(([A-Z_]+)\))?(?:\s*\(version [^()]*(?:\([^()]*\))?\))?\s*$`)

// Error implements error.
func (e *Exception) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("clickhouse code %d (%s): %s", e.Code, e.Name, e.Message)
	}
	return fmt.Sprintf("clickhouse code %d: %s", e.Code, e.Message)
}

// ParseException reads an engine error text of the form
// "Code: 62. DB::Exception: Syntax error: ... (SYNTAX_ERROR) (version 26.7.3.1)".
// Text without a code becomes code 0 with the whole text as message.
func ParseException(text string) *Exception {
	m := exceptionRe.FindStringSubmatch(text)
	if m == nil {
		return &Exception{Message: text}
	}
	code, _ := strconv.Atoi(m[1])
	return &Exception{Code: code, Name: m[3], Message: m[2]}
}

// ClassifyException wraps an engine exception in an *errs.Error with the kind
// a caller can act on. The client-safe message never includes the engine's
// text, which may quote SQL or paths.
func ClassifyException(op string, ex *Exception) *errs.Error {
	switch ex.Code {
	case CodeTimeoutExceeded:
		return errs.Wrap(op, errs.KindInvalid, ex, "the query took longer than its time limit; narrow the time range or filters")
	case CodeTooManyRows, CodeTooManyRowsBytes:
		return errs.Wrap(op, errs.KindInvalid, ex, "the query reads or returns more rows than allowed; narrow the time range or filters")
	case CodeMemoryLimit:
		return errs.Wrap(op, errs.KindInvalid, ex, "the query needs more memory than allowed; aggregate more coarsely or narrow the time range")
	case CodeReadonly:
		return errs.Wrap(op, errs.KindForbidden, ex, "this query may only read")
	case CodeQueryWasCancelled:
		return errs.Wrap(op, errs.KindUnavailable, ex, "the query was cancelled")
	default:
		return errs.Wrap(op, errs.KindInternal, ex, "")
	}
}
