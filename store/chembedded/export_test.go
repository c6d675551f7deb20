package chembedded

import (
	"context"

	"github.com/learnhub/analytics-service/store"
)

// QueryAs runs sql as a stream in the binary or the text result format,
// for tests that compare the two decoders.
func QueryAs(ctx context.Context, b *Backend, sql string, binary bool) (store.Rows, error) {
	c, text, restore, err := b.prepare(ctx, "chembedded.Query", sql, nil)
	if err != nil {
		return nil, err
	}
	r := &rows{ctx: ctx, b: b, c: c, restore: restore, binary: binary}
	r.start(text, nil)
	if r.err != nil {
		return nil, r.err
	}
	return r, nil
}

// Unsupported reports whether rows is a binary stream that met a column
// type the binary decoder does not read.
func Unsupported(r store.Rows) bool { return r.(*rows).unsupported }

// InsertsBinary reports whether Insert would send in as RowBinary (and not
// as text), for tests that must know which encoder they exercised.
func InsertsBinary(ctx context.Context, b *Backend, in store.Insert) (bool, error) {
	binary, _, err := InsertEncoding(ctx, b, in)
	return binary, err
}

// InsertEncoding reports whether Insert would send in as RowBinary, and
// its JSON columns in the engine's binary layout (and not as their text).
func InsertEncoding(ctx context.Context, b *Backend, in store.Insert) (binary, jsonBinary bool, err error) {
	c, err := b.pool.get(ctx, "chembedded.Insert")
	if err != nil {
		return false, false, err
	}
	defer b.pool.put(c)
	_, binary, jsonBinary, err = b.encoding(ctx, c, in)
	return binary, jsonBinary, err
}
