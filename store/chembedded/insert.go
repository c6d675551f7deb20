package chembedded

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

const (
	// insertFormat is the data format of inserts that do not fit RowBinary
	// (see encode.go and binencode.go).
	insertFormat = "JSONCompactEachRow"
	// binaryMinRows is the smallest insert without time values that looks
	// up its column types to go binary: below it the lookup costs more
	// than the text saves.
	binaryMinRows = 64
	// insertChunk is how much encoded data is buffered before it is handed
	// to the engine; appends happen at row boundaries.
	insertChunk = 1 << 20
	// insertCtxEvery is how many rows are encoded between context checks.
	insertCtxEvery = 4096
)

// Insert streams in.Rows into in.Table through one chdb insert stream:
// "INSERT INTO `t` (`a`, …) SETTINGS …" with the rows in RowBinary when
// their column types and values allow it (binencode.go), otherwise as
// JSON, appended in chunks of about insertChunk bytes. Settings (including
// the dedup token store.DB adds) are part of the statement, so nothing
// outlives it.
func (b *Backend) Insert(ctx context.Context, in store.Insert) error {
	const op = "chembedded.Insert"
	if in.Table == "" || len(in.Columns) == 0 {
		return errs.E(op, errs.KindInternal, "insert needs a table and at least one column")
	}
	if len(in.Rows) == 0 {
		return nil
	}
	c, err := b.pool.get(ctx, op)
	if err != nil {
		return err
	}
	defer b.pool.put(c)
	// Before the stream opens: the connection runs nothing else while an
	// insert stream is open.
	cols, binary, jsonBinary, err := b.encoding(ctx, c, in)
	if err != nil {
		return err
	}
	format := insertFormat
	settings := withDeadline(ctx, in.Settings)
	var jw *jsonWalker // set: JSON columns in the binary layout
	if binary {
		format = binaryInsertFormat
		asText := 1
		if jsonBinary {
			jw, asText = &jsonWalker{}, 0
		}
		settings = withSetting(settings, "input_format_binary_read_json_as_string", asText)
	} else if _, set := settings["date_time_input_format"]; !set {
		settings = withSetting(settings, "date_time_input_format", "best_effort")
	}
	list, err := settingsList(settings)
	if err != nil {
		return errs.Wrap(op, errs.KindInternal, err, "")
	}
	var q strings.Builder
	q.WriteString("INSERT INTO ")
	q.WriteString(store.QuoteIdent(in.Table))
	q.WriteString(" (")
	for i, col := range in.Columns {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(store.QuoteIdent(col))
	}
	q.WriteString(")")
	if list != "" {
		q.WriteString(" SETTINGS ")
		q.WriteString(list)
	}
	api := b.api
	s := api.streamInsert(c.h, q.String(), format)
	if s == 0 {
		c.broken = true
		return errs.E(op, errs.KindUnavailable, "the embedded engine did not open an insert stream")
	}
	defer api.destroyInsertStream(s)
	if msg := api.streamInsertError(s); msg != "" {
		c.broken = true
		return failure(ctx, op, msg)
	}

	// abort cancels the stream; the connection's state is then unknown.
	abort := func(err error) error {
		api.streamCancelInsert(s)
		c.broken = true
		return err
	}
	flush := func(buf []byte) error {
		if len(buf) == 0 {
			return nil
		}
		st := api.streamAppend(s, &buf[0], uintptr(len(buf)))
		runtime.KeepAlive(buf)
		if st != 0 {
			msg := api.streamInsertError(s)
			if msg == "" {
				msg = "Code: 0. appending insert data failed"
			}
			return abort(failure(ctx, op, msg))
		}
		return nil
	}

	buf := make([]byte, 0, insertChunk+insertChunk/4)
	for i, row := range in.Rows {
		if i%insertCtxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return abort(ctxError(op, err))
			}
		}
		if len(row) != len(in.Columns) {
			return abort(errs.E(op, errs.KindInternal, fmt.Sprintf(
				"row %d has %d values for %d columns", i, len(row), len(in.Columns))))
		}
		var col int
		if binary {
			buf, col, err = binEncodeRow(buf, cols.binary, row, jw)
		} else {
			buf, col, err = appendRow(buf, row, cols.dates)
		}
		if err != nil {
			return abort(errs.Wrap(op, errs.KindInternal, fmt.Errorf("row %d column %q: %w", i, in.Columns[col], err), ""))
		}
		if len(buf) >= insertChunk {
			if err := flush(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if err := flush(buf); err != nil {
		return err
	}
	r := api.streamDone(s)
	if r == 0 {
		c.broken = true
		return errs.E(op, errs.KindUnavailable, "the embedded engine did not finish the insert")
	}
	msg := api.resultError(r)
	api.destroyQueryResult(r)
	if msg != "" {
		c.broken = true
		return failure(ctx, op, msg)
	}
	return nil
}

// encoding looks up what an insert needs of its columns' types, and how
// its rows travel: in RowBinary (binary) or as text, and in RowBinary its
// JSON columns in the engine's binary layout (jsonBinary) or as their text.
func (b *Backend) encoding(ctx context.Context, c *conn, in store.Insert) (cols insertColumns, binary, jsonBinary bool, err error) {
	if !hasTime(in.Rows) && (b.text || len(in.Rows) < binaryMinRows) {
		return cols, false, false, nil
	}
	if cols, err = columnTypes(ctx, c, in); err != nil {
		return cols, false, false, err
	}
	binary = !b.text && cols.binary != nil && binFits(cols.binary, in.Rows)
	return cols, binary, binary && b.binaryJSONFits(c, cols.binary, in.Rows, in.Settings), nil
}

// hasTime reports whether any value in rows is a time.Time.
func hasTime(rows [][]any) bool {
	for _, r := range rows {
		for _, v := range r {
			if _, ok := v.(time.Time); ok {
				return true
			}
		}
	}
	return false
}

// insertColumns is what an insert needs to know of its columns' types.
type insertColumns struct {
	// dates marks the Date and Date32 columns (also inside Nullable or
	// LowCardinality), whose times the text format sends as days.
	dates []bool
	// binary is each column's RowBinary layout; nil when a column has none
	// (binEncodable).
	binary []*binType
}

// columnTypes looks up the types of in.Columns in system.columns.
func columnTypes(ctx context.Context, c *conn, in store.Insert) (insertColumns, error) {
	const op = "chembedded.Insert"
	out, msg := c.query(
		"SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String}",
		"JSONCompactEachRow", []store.Param{{Name: "t", Type: "String", Value: escapeParam(in.Table)}})
	if msg != "" {
		c.broken = true
		return insertColumns{}, failure(ctx, op, msg)
	}
	types := map[string]string{}
	text := []*colType{{kind: kindText}, {kind: kindText}}
	var v [2]any
	for line := range bytes.SplitSeq(bytesTrimNewline(out), []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		if err := decodeRow(line, text, v[:]); err != nil {
			return insertColumns{}, errs.Wrap(op, errs.KindInternal, err, "")
		}
		name, _ := v[0].(string)
		typ, _ := v[1].(string)
		types[name] = typ
	}
	cols := insertColumns{dates: make([]bool, len(in.Columns)), binary: make([]*binType, len(in.Columns))}
	for i, col := range in.Columns {
		typ, ok := types[col]
		cols.dates[i] = ok && parseType(typ).kind == kindDate
		if ok {
			cols.binary[i], _ = parseBinType(typ)
		}
	}
	if !binEncodable(cols.binary) {
		cols.binary = nil
	}
	return cols, nil
}

// binFits reports whether every value of rows has a RowBinary layout in
// its column (binEncode); it encodes each row into a scratch buffer, a
// small cost next to the engine's.
func binFits(types []*binType, rows [][]any) bool {
	var scratch []byte
	for _, row := range rows {
		if len(row) != len(types) {
			return false // the text path reports the mismatch
		}
		var err error
		if scratch, _, err = binEncodeRow(scratch[:0], types, row, nil); err != nil {
			return false
		}
	}
	return true
}

// withSetting returns settings with name set to v, copied so the caller's
// map is untouched.
func withSetting(settings store.Settings, name string, v any) store.Settings {
	out := maps.Clone(settings)
	if out == nil {
		out = store.Settings{}
	}
	out[name] = v
	return out
}

// escapeParam renders s in the escaped text form server-side parameters
// take (backslash escapes, no quotes).
func escapeParam(s string) string {
	_, params, err := store.NamedParams("?", []any{s})
	if err != nil || len(params) != 1 {
		return s
	}
	return params[0].Value
}
