package rowfile

import (
	"bufio"
	"encoding/csv"
	"io"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// csvEncoder writes RFC 4180 CSV with a header row. NULL is an empty field.
type csvEncoder struct {
	w     *csv.Writer
	loc   *time.Location
	kinds []colKind
	rec   []string
}

func newCSVEncoder(w io.Writer, loc *time.Location) *csvEncoder {
	// csv.Writer's own buffer is 4 KB: each flush is a hand-off through the
	// upload pipe, so a larger one (which csv.NewWriter then uses as is).
	return &csvEncoder{w: csv.NewWriter(bufio.NewWriterSize(w, 64<<10)), loc: loc}
}

func (e *csvEncoder) Begin(cols []store.Column) error {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
		e.kinds = append(e.kinds, kindOf(c.Type))
	}
	e.rec = make([]string, len(cols))
	return e.w.Write(names)
}

func (e *csvEncoder) Row(vals []any) error {
	for i, v := range vals {
		e.rec[i] = text(v, e.kinds[i], e.loc)
	}
	return e.w.Write(e.rec)
}

func (e *csvEncoder) Close() error {
	e.w.Flush()
	return e.w.Error()
}
