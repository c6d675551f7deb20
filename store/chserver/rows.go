package chserver

import (
	"context"
	"fmt"
	"reflect"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// rows adapts the driver's streamed result to store.Rows: each value is
// scanned into a holder of the driver's own scan type, normalised (see
// native) and handed to store.Assign, exactly as the embedded backend does.
type rows struct {
	// ctxErr reports the caller's ctx state (see ctxErr), to classify
	// streaming errors: a cancelled ctx is KindUnavailable, not a failure.
	ctxErr  func() error
	cancel  context.CancelFunc // stops the query; called by Close
	r       driver.Rows
	cols    []store.Column
	holders []any // one *T per column, T the column's scan type
	done    bool  // Next returned false or Close was called: no more rows
	// abandoned: Close stopped the query before its end, so the driver's
	// cancellation error is ours, not a failure to report.
	abandoned bool
}

var _ store.Rows = (*rows)(nil)

func newRows(ctx context.Context, cancel context.CancelFunc, r driver.Rows) *rows {
	types := r.ColumnTypes()
	cols := make([]store.Column, len(types))
	holders := make([]any, len(types))
	for i, ct := range types {
		cols[i] = store.Column{Name: ct.Name(), Type: ct.DatabaseTypeName()}
		if st := ct.ScanType(); st != nil {
			holders[i] = reflect.New(st).Interface()
		} else {
			holders[i] = new(any) // Nullable(Nothing): always NULL
		}
	}
	return &rows{ctxErr: func() error { return ctxErr(ctx) }, cancel: cancel, r: r, cols: cols, holders: holders}
}

// Columns describes the result's columns.
func (r *rows) Columns() []store.Column { return r.cols }

// Next advances to the next row; false at the end or on an error (see Err).
func (r *rows) Next() bool {
	if r.done {
		return false
	}
	if !r.r.Next() {
		r.done = true
		return false
	}
	return true
}

// Scan stores the current row's values into dest, one pointer per column,
// with store.Assign's conversion rules.
func (r *rows) Scan(dest ...any) error {
	const op = "chserver.Rows.Scan"
	if len(dest) != len(r.holders) {
		return errs.E(op, errs.KindInternal, fmt.Sprintf("Scan got %d destinations for %d columns", len(dest), len(r.holders)))
	}
	if err := r.r.Scan(r.holders...); err != nil {
		return classifyWith(r.ctxErr(), op, err)
	}
	for i, h := range r.holders {
		v, err := native(reflect.ValueOf(h).Elem().Interface())
		if err != nil {
			return errs.Wrap(op, errs.KindInternal, fmt.Errorf("column %q (%s): %w", r.cols[i].Name, r.cols[i].Type, err), "")
		}
		if err := store.Assign(dest[i], v); err != nil {
			return errs.Wrap(op, errs.KindInternal, fmt.Errorf("column %q (%s): %w", r.cols[i].Name, r.cols[i].Type, err), "")
		}
	}
	return nil
}

// Err is the error that ended the stream early, if any.
func (r *rows) Err() error {
	if r.abandoned && r.ctxErr() == nil {
		return nil
	}
	return classifyWith(r.ctxErr(), "chserver.Rows", r.r.Err())
}

// Close releases the connection; safe to call twice. Closing before the
// end cancels the query on the server (the connection is then discarded)
// rather than reading the rest of a possibly huge result.
func (r *rows) Close() error {
	if r.done {
		err := r.r.Close()
		r.cancel()
		return classifyWith(r.ctxErr(), "chserver.Rows.Close", err)
	}
	r.done, r.abandoned = true, true
	r.cancel()
	err := r.r.Close()
	if r.ctxErr() == nil {
		return nil
	}
	return classifyWith(r.ctxErr(), "chserver.Rows.Close", err)
}
