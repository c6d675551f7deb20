package privacy

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"

	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/errs"
)

// readBatch is how many rows are read from a Parquet file at a time.
const readBatch = 512

// coldFile is a Parquet object of the cold tier, copied to a temporary file
// so it can be read at random offsets without holding it in memory.
type coldFile struct {
	tmp  *os.File
	file *parquet.File
}

// openCold opens the cold object at key.
func openCold(ctx context.Context, blobs blob.Store, key string) (*coldFile, error) {
	const op = "privacy.openCold"
	r, err := blobs.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	tmp, err := os.CreateTemp("", "analyticsd-cold-*.parquet")
	if err != nil {
		return nil, errs.Wrap(op, errs.KindInternal, err, "")
	}
	c := &coldFile{tmp: tmp}
	size, err := io.Copy(tmp, r)
	if err != nil {
		c.Close()
		return nil, errs.Wrap(op, errs.KindUnavailable, err, "cannot read cold object "+key)
	}
	if c.file, err = parquet.OpenFile(tmp, size); err != nil {
		c.Close()
		return nil, errs.Wrap(op, errs.KindInternal, err, "cold object "+key+" is not a readable Parquet file")
	}
	return c, nil
}

// Close removes the temporary copy.
func (c *coldFile) Close() {
	_ = c.tmp.Close()
	_ = os.Remove(c.tmp.Name())
}

// column is the leaf index of a top-level column, or -1.
func (c *coldFile) column(name string) int {
	leaf, ok := c.file.Schema().Lookup(name)
	if !ok {
		return -1
	}
	return leaf.ColumnIndex
}

// each calls fn with every row of the file, in order. The row is only valid
// during the call.
func (c *coldFile) each(fn func(parquet.Row) error) error {
	buf := make([]parquet.Row, readBatch)
	for _, rg := range c.file.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				if ferr := fn(row); ferr != nil {
					_ = rows.Close()
					return ferr
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				_ = rows.Close()
				return errs.Wrap("privacy.coldFile", errs.KindInternal, err, "cannot read a cold object")
			}
		}
		if err := rows.Close(); err != nil {
			return errs.Wrap("privacy.coldFile", errs.KindInternal, err, "")
		}
	}
	return nil
}

// valueAt is the value of leaf column col in row (flat schemas: one value
// per column), or a null value when absent.
func valueAt(row parquet.Row, col int) parquet.Value {
	if col >= 0 && col < len(row) && row[col].Column() == col {
		return row[col]
	}
	for _, v := range row {
		if v.Column() == col {
			return v
		}
	}
	return parquet.NullValue()
}

// stringAt is the string value of column col in row; "" for null.
func stringAt(row parquet.Row, col int) string {
	v := valueAt(row, col)
	if v.IsNull() {
		return ""
	}
	return string(v.ByteArray())
}

// eventChecksum is the per-event term of a cold object's checksum: the
// first 8 bytes of MD5(event_id), little-endian. ClickHouse computes the
// same with reinterpretAsUInt64(substring(MD5(event_id), 1, 8)), so a sum
// over the hot rows and over the file's rows (both mod 2^64) must agree.
func eventChecksum(eventID string) uint64 {
	sum := md5.Sum([]byte(eventID))
	return binary.LittleEndian.Uint64(sum[:8])
}

// checksumSQL is eventChecksum summed by ClickHouse.
const checksumSQL = "sum(reinterpretAsUInt64(substring(MD5(event_id), 1, 8)))"
