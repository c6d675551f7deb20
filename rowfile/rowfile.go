// Package rowfile writes rows read from the store as files: CSV, JSON, NDJSON,
// XLSX and Parquet. The exports package streams query results through these
// encoders; the privacy package writes the cold tier with the Parquet one.
// Values arrive as the store scans them into *any (nil, string, int64,
// uint64, float64, bool, time.Time, []any, map[string]any).
package rowfile

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// Encoder writes rows in one file format: Begin once with the result's
// columns, Row once per row, Close once to finish the file.
type Encoder interface {
	Begin(cols []store.Column) error
	Row(vals []any) error
	Close() error
}

// NewCSV returns an RFC 4180 CSV encoder with a header row on w; date-times
// are written in loc.
func NewCSV(w io.Writer, loc *time.Location) Encoder { return newCSVEncoder(w, loc) }

// NewJSON returns an encoder of one JSON array of objects on w.
func NewJSON(w io.Writer, loc *time.Location) Encoder {
	return &jsonEncoder{w: w, loc: loc, array: true}
}

// NewNDJSON returns an encoder of one JSON object per line on w.
func NewNDJSON(w io.Writer, loc *time.Location) Encoder { return &jsonEncoder{w: w, loc: loc} }

// NewXLSX returns an Excel workbook encoder on w that starts a new sheet
// every 1 048 576 rows.
func NewXLSX(w io.Writer, loc *time.Location) Encoder {
	return &xlsxEncoder{w: w, loc: loc, sheetRows: maxSheetRows}
}

// NewParquet returns the Parquet encoder on w (typed optional columns from
// the ClickHouse types, zstd, bounded memory; see parquetEncoder).
func NewParquet(w io.Writer) Encoder { return &parquetEncoder{w: w} }

// colKind is how a column's values are written.
type colKind int

const (
	kindOther colKind = iota
	kindInt
	kindUint
	kindFloat
	kindBool
	kindDate
	kindDateTime
	kindString
)

// baseType strips Nullable(…) and LowCardinality(…) from a ClickHouse type.
func baseType(t string) (base string, nullable bool) {
	for {
		switch {
		case strings.HasPrefix(t, "Nullable(") && strings.HasSuffix(t, ")"):
			t, nullable = t[len("Nullable("):len(t)-1], true
		case strings.HasPrefix(t, "LowCardinality(") && strings.HasSuffix(t, ")"):
			t = t[len("LowCardinality(") : len(t)-1]
		default:
			return t, nullable
		}
	}
}

// kindOf classifies a ClickHouse type.
func kindOf(t string) colKind {
	b, _ := baseType(t)
	name, _, _ := strings.Cut(b, "(")
	switch name {
	case "Int8", "Int16", "Int32", "Int64":
		return kindInt
	case "UInt8", "UInt16", "UInt32", "UInt64":
		return kindUint
	case "Float32", "Float64":
		return kindFloat
	case "Bool":
		return kindBool
	case "Date", "Date32":
		return kindDate
	case "DateTime", "DateTime64":
		return kindDateTime
	case "String", "FixedString", "UUID", "Enum8", "Enum16", "IPv4", "IPv6":
		return kindString
	}
	return kindOther
}

// dateTimeLayout is how the text formats write date-times: ISO 8601 with
// milliseconds and the zone offset, so a reader in any zone gets the instant.
const dateTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// text is a value as a CSV or XLSX cell; NULL is "".
func text(v any, k colKind, loc *time.Location) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		if k == kindDate {
			return x.UTC().Format(time.DateOnly)
		}
		return x.In(loc).Format(dateTimeLayout)
	}
	b, err := appendJSON(nil, v)
	if err != nil {
		return ""
	}
	return string(b)
}

// jsonValue is a value for the JSON formats: numbers stay numbers (64-bit
// integers exact), date-times are strings in loc, dates "YYYY-MM-DD".
func jsonValue(v any, k colKind, loc *time.Location) any {
	if t, ok := v.(time.Time); ok {
		return text(t, k, loc)
	}
	if f, ok := v.(float64); ok && (f != f || f > 1e308 || f < -1e308) {
		return text(f, k, loc) // NaN and ±Inf have no JSON number
	}
	return v
}
