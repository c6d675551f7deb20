package exports

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

// formatsSQL covers Unicode and CSV-hostile text, NULL, the UInt64 and
// Int64 extremes, date-times around the 2026 European DST changes, dates,
// floats and booleans.
const formatsSQL = `SELECT * FROM (
 SELECT toUInt8(1) AS n, 'héllo, "世界"` + "\n" + `🙂' AS s, toUInt64('18446744073709551615') AS big,
   toInt64('-9223372036854775808') AS neg, CAST(NULL AS Nullable(String)) AS maybe,
   toDateTime64('2026-03-29 01:30:00.123', 3, 'UTC') AS at, toDate('2026-03-29') AS day, toFloat64(1.5) AS f, true AS ok
 UNION ALL
 SELECT toUInt8(2), '', toUInt64(0), toInt64(0), CAST('x' AS Nullable(String)),
   toDateTime64('2026-10-25 00:59:59.999', 3, 'UTC'), toDate('1970-01-01'), toFloat64(-0.25), false
) ORDER BY n`

// queryAll returns the columns and rows of sql as the store scans them.
func queryAll(t *testing.T, db *store.DB, sql string) ([]store.Column, [][]any) {
	t.Helper()
	rows, err := db.Query(context.Background(), sql)
	require.NoError(t, err)
	return drain(t, newStoreStream(rows))
}

// drain returns the columns and every row of st, and closes it.
func drain(t *testing.T, st rowStream) ([]store.Column, [][]any) {
	t.Helper()
	defer st.Close()
	var out [][]any
	for st.Next() {
		out = append(out, append([]any(nil), st.Values()...))
	}
	require.NoError(t, st.Err())
	return st.Columns(), out
}

// encodeAll runs sql through the encoder of f.
func encodeAll(t *testing.T, db *store.DB, f Format, loc *time.Location, sql string) []byte {
	t.Helper()
	rows, err := db.Query(context.Background(), sql)
	require.NoError(t, err)
	st := newStoreStream(rows)
	defer st.Close()
	var buf bytes.Buffer
	enc, err := newEncoder(f, &buf, loc)
	require.NoError(t, err)
	require.NoError(t, enc.Begin(st.Columns()))
	for st.Next() {
		require.NoError(t, enc.Row(st.Values()))
	}
	require.NoError(t, st.Err())
	require.NoError(t, enc.Close())
	return buf.Bytes()
}

// assertText checks that a text cell (CSV, XLSX, JSON string form) means
// the ClickHouse value want.
func assertText(t *testing.T, want any, day bool, loc *time.Location, got string, where string) {
	t.Helper()
	switch w := want.(type) {
	case nil:
		assert.Equal(t, "", got, where)
	case string:
		assert.Equal(t, w, got, where)
	case uint64:
		n, err := strconv.ParseUint(got, 10, 64)
		assert.NoError(t, err, where)
		assert.Equal(t, w, n, where)
	case int64:
		n, err := strconv.ParseInt(got, 10, 64)
		assert.NoError(t, err, where)
		assert.Equal(t, w, n, where)
	case float64:
		f, err := strconv.ParseFloat(got, 64)
		assert.NoError(t, err, where)
		assert.Equal(t, w, f, where)
	case bool:
		b, err := strconv.ParseBool(got)
		assert.NoError(t, err, where)
		assert.Equal(t, w, b, where)
	case time.Time:
		if day {
			assert.Equal(t, w.UTC().Format(time.DateOnly), got, where)
			return
		}
		at, err := time.Parse(time.RFC3339Nano, got)
		require.NoError(t, err, where)
		assert.True(t, w.Equal(at), "%s: %s != %s", where, w, at)
		_, wantOff := w.In(loc).Zone()
		_, gotOff := at.Zone()
		assert.Equal(t, wantOff, gotOff, "%s: written in the export's zone", where)
	default:
		t.Fatalf("%s: unexpected type %T", where, want)
	}
}

func TestFormatsRoundTrip(t *testing.T) {
	db := storetest.Embedded(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	cols, want := queryAll(t, db, formatsSQL)
	require.Len(t, want, 2)
	require.Equal(t, uint64(18446744073709551615), want[0][2], "the engine returns the UInt64 maximum")
	require.Nil(t, want[0][4])
	isDay := func(i int) bool { return cols[i].Type == "Date" }

	t.Run("CSV", func(t *testing.T) {
		recs, err := csv.NewReader(bytes.NewReader(encodeAll(t, db, FormatCSV, berlin, formatsSQL))).ReadAll()
		require.NoError(t, err)
		require.Len(t, recs, 3)
		for i, c := range cols {
			assert.Equal(t, c.Name, recs[0][i])
		}
		for r, row := range want {
			for i, v := range row {
				assertText(t, v, isDay(i), berlin, recs[r+1][i], fmt.Sprintf("row %d %s", r, cols[i].Name))
			}
		}
	})
	t.Run("XLSX", func(t *testing.T) {
		f, err := excelize.OpenReader(bytes.NewReader(encodeAll(t, db, FormatXLSX, berlin, formatsSQL)))
		require.NoError(t, err)
		defer f.Close()
		rows, err := f.GetRows("Sheet1")
		require.NoError(t, err)
		require.Len(t, rows, 3)
		for r, row := range want {
			for i, v := range row {
				got := ""
				if i < len(rows[r+1]) {
					got = rows[r+1][i]
				}
				assertText(t, v, isDay(i), berlin, got, fmt.Sprintf("row %d %s", r, cols[i].Name))
			}
		}
	})
	jsonCheck := func(t *testing.T, objs []map[string]any) {
		t.Helper()
		require.Len(t, objs, 2)
		for r, row := range want {
			for i, v := range row {
				got, ok := objs[r][cols[i].Name]
				require.True(t, ok, cols[i].Name)
				where := fmt.Sprintf("row %d %s", r, cols[i].Name)
				switch g := got.(type) {
				case nil:
					assert.Nil(t, v, where)
				case json.Number:
					assertText(t, v, false, berlin, g.String(), where)
				case bool:
					assert.Equal(t, v, g, where)
				case string:
					assertText(t, v, isDay(i), berlin, g, where)
				default:
					t.Errorf("%s: unexpected %T", where, got)
				}
			}
		}
	}
	t.Run("JSON", func(t *testing.T) {
		dec := json.NewDecoder(bytes.NewReader(encodeAll(t, db, FormatJSON, berlin, formatsSQL)))
		dec.UseNumber()
		var objs []map[string]any
		require.NoError(t, dec.Decode(&objs))
		jsonCheck(t, objs)
	})
	t.Run("NDJSON", func(t *testing.T) {
		sc := bufio.NewScanner(bytes.NewReader(encodeAll(t, db, FormatNDJSON, berlin, formatsSQL)))
		var objs []map[string]any
		for sc.Scan() {
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.UseNumber()
			var m map[string]any
			require.NoError(t, dec.Decode(&m))
			objs = append(objs, m)
		}
		jsonCheck(t, objs)
	})
	t.Run("PARQUET", func(t *testing.T) {
		b := encodeAll(t, db, FormatParquet, berlin, formatsSQL)
		f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		require.Equal(t, int64(2), f.NumRows())
		r := parquet.NewReader(f)
		defer r.Close()
		got := make([]parquet.Row, 2)
		n, _ := r.ReadRows(got)
		require.Equal(t, 2, n)
		for ri, row := range want {
			for i, v := range row {
				leaf, ok := f.Schema().Lookup(cols[i].Name)
				require.True(t, ok, cols[i].Name)
				pv := got[ri][leaf.ColumnIndex]
				where := fmt.Sprintf("row %d %s", ri, cols[i].Name)
				switch w := v.(type) {
				case nil:
					assert.True(t, pv.IsNull(), where)
				case string:
					assert.Equal(t, w, string(pv.ByteArray()), where)
				case uint64:
					assert.Equal(t, w, pv.Uint64(), where)
				case int64:
					assert.Equal(t, w, pv.Int64(), where)
				case float64:
					assert.Equal(t, w, pv.Double(), where)
				case bool:
					assert.Equal(t, w, pv.Boolean(), where)
				case time.Time:
					if isDay(i) {
						assert.Equal(t, int32(w.Unix()/86400), pv.Int32(), where)
					} else {
						assert.Equal(t, w.UnixMicro(), pv.Int64(), where)
					}
				}
			}
		}
		// typed columns, not strings
		leaf, _ := f.Schema().Lookup("big")
		assert.Equal(t, parquet.Int64Type.Kind(), leaf.Node.Type().Kind())
		leaf, _ = f.Schema().Lookup("at")
		assert.Contains(t, leaf.Node.Type().LogicalType().String(), "TIMESTAMP")
	})
}
