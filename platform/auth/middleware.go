package auth

import (
	"context"
	"net/http"
	"strings"

	"github.com/learnhub/analytics-service/platform/errs"
)

// authErrorKey is the context key of a failed verification.
type authErrorKey struct{}

// Middleware authenticates each request from its Authorization header. A
// request without one continues anonymous; one with an invalid token also
// continues anonymous, with the verification error stored for ErrorFrom so
// GraphQL can answer UNAUTHENTICATED with the real reason (and anonymous
// parts of the schema keep working); a valid token puts the Principal in
// the context.
func Middleware(v Verifier) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			values := r.Header.Values("Authorization")
			header := ""
			switch len(values) {
			case 0:
			case 1:
				header = values[0]
			default:
				ctx := withError(r.Context(), errs.E("auth.Middleware", errs.KindUnauthenticated,
					"send one Authorization header, not several"))
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
			next.ServeHTTP(w, r.WithContext(Authenticate(r.Context(), v, header)))
		})
	}
}

// Authenticate returns ctx carrying the outcome of verifying an
// Authorization value ("Bearer <token>"): the Principal when valid, the
// error (see ErrorFrom) when not, nothing when authorization is empty. The
// HTTP middleware and the WebSocket init payload share it.
func Authenticate(ctx context.Context, v Verifier, authorization string) context.Context {
	if strings.TrimSpace(authorization) == "" {
		return ctx
	}
	raw, ok := BearerFromHeader(authorization)
	if !ok {
		return withError(ctx, errs.E("auth.Authenticate", errs.KindUnauthenticated,
			"Authorization must be \"Bearer <token>\""))
	}
	p, err := v.Verify(ctx, raw)
	if err != nil {
		return withError(ctx, err)
	}
	return WithPrincipal(ctx, p)
}

// BearerFromHeader extracts the token from an Authorization value of the
// form "Bearer <token>" (scheme case-insensitive), reporting false for any
// other form.
func BearerFromHeader(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", false
	}
	return token, true
}

// ErrorFrom returns why the request's token was refused, or nil when it
// carried none or a valid one.
func ErrorFrom(ctx context.Context) error {
	err, _ := ctx.Value(authErrorKey{}).(error)
	return err
}

// withError returns ctx remembering a failed verification.
func withError(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, authErrorKey{}, err)
}
