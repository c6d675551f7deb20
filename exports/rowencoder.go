package exports

import (
	"io"

	"github.com/learnhub/analytics-service/store"
)

// RowEncoder writes rows read from the store in one file format: Begin once
// with the result's columns, Row once per row (values as the store scans
// them into *any), Close once to finish the file. It is the exported face of
// the encoders exports uses, for packages that write ClickHouse rows to files
// the same way (the privacy package's cold tier).
type RowEncoder interface {
	Begin(cols []store.Column) error
	Row(vals []any) error
	Close() error
}

// NewParquetEncoder returns the export Parquet encoder on w (typed optional
// columns from the ClickHouse types, zstd, bounded memory; see parquetEncoder).
func NewParquetEncoder(w io.Writer) RowEncoder { return &parquetEncoder{w: w} }
