package exports

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
	switch {
	case e.array && e.n > 0:
		e.bw.WriteString(",\n")
	case e.array:
		e.bw.WriteString("\n")
	}
	e.n++
	e.bw.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			e.bw.WriteByte(',')
		}
		e.bw.Write(e.keys[i])
		e.bw.WriteByte(':')
		b, err := json.Marshal(jsonValue(v, e.kinds[i], e.loc))
		if err != nil {
			return err
		}
		e.bw.Write(b)
	}
	e.bw.WriteByte('}')
	if !e.array {
		e.bw.WriteByte('\n')
	}
	return nil
}

func (e *jsonEncoder) Close() error {
	if e.array {
		e.bw.WriteString("\n]\n")
	}
	return e.bw.Flush()
}
