package rowfile

import (
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/learnhub/analytics-service/store"
)

// parquetBatch is how many rows are buffered between writes.
const parquetBatch = 512

// parquetEncoder writes Parquet with typed, optional columns from the
// ClickHouse types: Int* → INT64, UInt* → INT64 (UINT_64 logical type),
// Float* → DOUBLE, Bool → BOOLEAN, Date → DATE, DateTime* → TIMESTAMP(µs,
// UTC), everything else (strings, UUIDs, decimals, arrays, maps, JSON) →
// UTF-8 strings (JSON text for nested values). Row groups are flushed as
// the writer fills them, so memory stays bounded.
//
// parquet-go orders a group's columns by name, so the file's column order
// is alphabetical; readers address columns by name.
type parquetEncoder struct {
	w     io.Writer
	pw    *parquet.GenericWriter[any]
	kinds []colKind
	index []int // query column → leaf column index
	buf   []parquet.Row
}

func (e *parquetEncoder) Begin(cols []store.Column) error {
	group := parquet.Group{}
	names := make([]string, len(cols))
	for i, c := range cols {
		name := c.Name
		for n := 2; ; n++ {
			if _, dup := group[name]; !dup {
				break
			}
			name = c.Name + "_" + strconv.Itoa(n)
		}
		names[i] = name
		k := kindOf(c.Type)
		e.kinds = append(e.kinds, k)
		group[name] = parquet.Optional(parquetNode(k))
	}
	sorted := slices.Sorted(slices.Values(names))
	for _, n := range names {
		e.index = append(e.index, slices.Index(sorted, n))
	}
	e.pw = parquet.NewGenericWriter[any](e.w, parquet.NewSchema("export", group), parquet.Compression(&parquet.Zstd))
	return nil
}

func parquetNode(k colKind) parquet.Node {
	switch k {
	case kindInt:
		return parquet.Int(64)
	case kindUint:
		return parquet.Uint(64)
	case kindFloat:
		return parquet.Leaf(parquet.DoubleType)
	case kindBool:
		return parquet.Leaf(parquet.BooleanType)
	case kindDate:
		return parquet.Date()
	case kindDateTime:
		return parquet.Timestamp(parquet.Microsecond)
	}
	return parquet.String()
}

func (e *parquetEncoder) Row(vals []any) error {
	row := make(parquet.Row, len(vals))
	for i, v := range vals {
		col := e.index[i]
		pv := e.value(v, e.kinds[i])
		if pv.IsNull() {
			row[col] = parquet.NullValue().Level(0, 0, col)
		} else {
			row[col] = pv.Level(0, 1, col)
		}
	}
	e.buf = append(e.buf, row)
	if len(e.buf) >= parquetBatch {
		return e.flush()
	}
	return nil
}

// value converts one scanned value to the column's physical type.
func (e *parquetEncoder) value(v any, k colKind) parquet.Value {
	if v == nil {
		return parquet.NullValue()
	}
	switch k {
	case kindInt:
		n, _ := v.(int64)
		return parquet.Int64Value(n)
	case kindUint:
		n, _ := v.(uint64)
		return parquet.Int64Value(int64(n))
	case kindFloat:
		f, _ := v.(float64)
		return parquet.DoubleValue(f)
	case kindBool:
		b, _ := v.(bool)
		return parquet.BooleanValue(b)
	case kindDate:
		t, _ := v.(time.Time)
		return parquet.Int32Value(int32(t.UTC().Unix() / 86400))
	case kindDateTime:
		t, _ := v.(time.Time)
		return parquet.Int64Value(t.UnixMicro())
	}
	if s, ok := v.(string); ok {
		return parquet.ByteArrayValue([]byte(s))
	}
	b, _ := appendJSON(nil, v)
	return parquet.ByteArrayValue(b)
}

func (e *parquetEncoder) flush() error {
	_, err := e.pw.WriteRows(e.buf)
	e.buf = e.buf[:0]
	return err
}

func (e *parquetEncoder) Close() error {
	if err := e.flush(); err != nil {
		return err
	}
	return e.pw.Close()
}
