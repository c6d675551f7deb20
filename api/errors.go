package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/reqid"
)

// presentError turns any resolver error into a GraphQL error whose
// extensions.code comes from the error's kind and whose message is safe to
// show. Unclassified and internal errors are logged at ERROR with the
// request id and answered generically: no SQL, paths or driver text reach a
// client; classified client errors are logged at INFO with their public
// message only.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var ge *gqlerror.Error
		if errors.As(err, &ge) && ge.Err == nil && ge.Extensions["code"] != nil {
			return gerr // parse/validation errors from gqlgen keep their codes
		}
		var e *errs.Error
		if !errors.As(err, &e) {
			e = errs.Wrap("graphql", errs.KindInternal, err, "")
		}
		kind := errs.KindOf(e)
		if kind == errs.KindInternal {
			log.ErrorContext(ctx, "internal error", "err", err.Error(), "path", gerr.Path.String(), "request_id", reqid.From(ctx))
		} else { // the client's mistake or a refusal: worth a line, not an alert
			log.InfoContext(ctx, "client error", "code", kind.String(), "message", errs.PublicMessage(e),
				"path", gerr.Path.String(), "request_id", reqid.From(ctx))
		}
		gerr.Message = errs.PublicMessage(e)
		ext := map[string]any{"code": kind.String()}
		for k, v := range errs.PublicFields(e) {
			ext[k] = v
		}
		if id := reqid.From(ctx); id != "" {
			ext["requestId"] = id
		}
		gerr.Extensions = ext
		return gerr
	}
}

// recoverPanic answers a panicking resolver as INTERNAL and logs the stack;
// the server keeps serving.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "resolver panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()), "request_id", reqid.From(ctx))
		return errs.E("graphql.recover", errs.KindInternal, "")
	}
}
