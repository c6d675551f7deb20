package rowfile

import (
	"bufio"
	"encoding/json"
	"io"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// jsonEncoder writes one JSON object per row with keys in column order:
// a JSON array (array) or newline-delimited JSON.
type jsonEncoder struct {
	w     io.Writer
	bw    *bufio.Writer
	loc   *time.Location
	array bool
	keys  [][]byte
	kinds []colKind
	n     int
	line  []byte // the current row, reused
}

func (e *jsonEncoder) Begin(cols []store.Column) error {
	e.bw = bufio.NewWriterSize(e.w, 64<<10)
	for _, c := range cols {
		k, _ := json.Marshal(c.Name)
		e.keys = append(e.keys, k)
		e.kinds = append(e.kinds, kindOf(c.Type))
	}
	if e.array {
		_, err := e.bw.WriteString("[")
		return err
	}
	return nil
}

func (e *jsonEncoder) Row(vals []any) error {
	b := e.line[:0]
	switch {
	case e.array && e.n > 0:
		b = append(b, ",\n"...)
	case e.array:
		b = append(b, '\n')
	}
	e.n++
	b = append(b, '{')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.keys[i]...)
		b = append(b, ':')
		var err error
		if t, ok := v.(time.Time); ok && e.kinds[i] == kindDateTime {
			// the layout's characters need no escaping
			b = append(t.In(e.loc).AppendFormat(append(b, '"'), dateTimeLayout), '"')
		} else if b, err = appendJSON(b, jsonValue(v, e.kinds[i], e.loc)); err != nil {
			return err
		}
	}
	b = append(b, '}')
	if !e.array {
		b = append(b, '\n')
	}
	e.line = b
	_, err := e.bw.Write(b)
	return err
}

func (e *jsonEncoder) Close() error {
	if e.array {
		e.bw.WriteString("\n]\n")
	}
	return e.bw.Flush()
}
