package chserver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// classify maps a driver error to an *errs.Error:
//   - an engine exception becomes a *store.Exception classified by
//     store.ClassifyException;
//   - a cancelled or expired ctx is KindUnavailable and still matches
//     context.Canceled / context.DeadlineExceeded with errors.Is;
//   - network failures are KindUnavailable;
//   - anything else (a bug: bad argument type, wrong column count) is
//     KindInternal.
//
// An error that is already classified passes unchanged.
func classify(ctx context.Context, op string, err error) error {
	return classifyWith(ctxErr(ctx), op, err)
}

// classifyWith is classify given the statement ctx's error (see ctxErr).
func classifyWith(cerr error, op string, err error) error {
	if err == nil {
		return nil
	}
	var done *errs.Error
	if errors.As(err, &done) {
		return err
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		return store.ClassifyException(op, exception(ex))
	}
	if cerr != nil {
		if !errors.Is(err, cerr) {
			// The driver reports an expired deadline as an i/o timeout on
			// the socket; keep both so errors.Is finds the ctx error.
			err = fmt.Errorf("%w: %w", cerr, err)
		}
		return errs.Wrap(op, errs.KindUnavailable, err, "the query was cancelled or ran out of time")
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errs.Wrap(op, errs.KindUnavailable, err, "the query was cancelled or ran out of time")
	}
	if isTransport(err) {
		return errs.Wrap(op, errs.KindUnavailable, err, "ClickHouse is unavailable; retry later")
	}
	return errs.Wrap(op, errs.KindInternal, err, "")
}

// exception converts the driver's exception. The native protocol's Name is
// the C++ class ("DB::Exception"); the symbolic code name, when the server
// sends one, ends the message as "(NAME)" and is parsed from there.
func exception(ex *clickhouse.Exception) *store.Exception {
	parsed := store.ParseException(fmt.Sprintf("Code: %d. %s", ex.Code, ex.Message))
	out := &store.Exception{Code: int(ex.Code), Name: parsed.Name, Message: parsed.Message}
	if ex.CodeName != "" {
		out.Name = ex.CodeName
	}
	if out.Message == "" {
		out.Message = ex.Message
	}
	return out
}

// isException reports whether err carries an engine exception.
func isException(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex)
}

// isTransport reports whether err means the server could not be reached or
// the connection broke.
func isTransport(err error) bool {
	var nerr net.Error
	var operr *net.OpError
	switch {
	case errors.As(err, &nerr), errors.As(err, &operr):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, clickhouse.ErrAcquireConnTimeout), errors.Is(err, clickhouse.ErrConnectionClosed),
		errors.Is(err, clickhouse.ErrAcquireConnNoAddress):
		return true
	}
	return false
}

// ctxErr is ctx.Err(), counting a deadline that has passed as exceeded
// even before ctx's timer fired: the driver sets the socket deadline from
// ctx, so the read can time out a moment earlier.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}
