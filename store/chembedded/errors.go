package chembedded

import (
	"context"
	"errors"
	"strings"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// classify turns an engine error text into a classified error with the
// parsed *store.Exception as its cause. Engine texts may span several lines
// (insert parse errors quote the offending row); they are folded onto one
// line so the exception parser sees the leading "Code: N." form.
func classify(op, text string) error {
	return store.ClassifyException(op, store.ParseException(strings.Join(strings.Fields(text), " ")))
}

// failure classifies an engine error, preferring the request's own end
// (cancellation, deadline) when that is why the statement stopped.
func failure(ctx context.Context, op, text string) error {
	if err := ctx.Err(); err != nil {
		return ctxError(op, err)
	}
	return classify(op, text)
}

// ctxError reports a statement stopped because its request ended.
func ctxError(op string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return errs.Wrap(op, errs.KindUnavailable, err, "the query did not finish before the request deadline")
	}
	return errs.Wrap(op, errs.KindUnavailable, err, "the request was cancelled")
}
