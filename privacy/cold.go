package privacy

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/errs"
)

// ColdPrefix is where a tenant's cold events live: one object per month
// under ColdPrefix(tenant) + "YYYY/MM/".
func ColdPrefix(tenant string) string { return blob.TenantPrefix(tenant) + "cold/events/" }

// ColdMonthPrefix is where a tenant's cold objects of one month live:
// ColdPrefix(tenant) + "YYYY/MM/".
func ColdMonthPrefix(tenant string, month time.Time) string {
	return ColdPrefix(tenant) + month.UTC().Format("2006/01") + "/"
}

// ColdKey is the object retention writes for one tenant and month from the
// events partition whose first block number is block:
// tenants/<t>/cold/events/YYYY/MM/part-<block>.parquet. A partition keeps
// its first block number through merges and mutations, so a rerun after a
// failed move rewrites the same object; rows that arrive for a month
// already moved form a new partition with a higher first block, so the next
// move adds an object beside the earlier ones instead of replacing them.
func ColdKey(tenant string, month time.Time, block uint64) string {
	return ColdMonthPrefix(tenant, month) + "part-" + strconv.FormatUint(block, 10) + ".parquet"
}

// eraseCold pseudonymises the user in every cold object of the tenant that
// holds a row of the user: user_id becomes hash and the PII property keys
// are removed from those rows. Each object is rewritten whole and replaced
// atomically (blob.Store.Put); an object without the user is left as is, so
// a replay rewrites nothing.
func (s *Service) eraseCold(ctx context.Context, tenant, userID, hash string) (ColdCounts, error) {
	objs, err := s.blobs.List(ctx, ColdPrefix(tenant))
	if err != nil {
		return ColdCounts{}, err
	}
	var counts ColdCounts
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".parquet") {
			continue
		}
		n, err := s.rewriteCold(ctx, o.Key, userID, hash)
		if err != nil {
			return counts, err
		}
		if n > 0 {
			counts.Objects++
			counts.Rows += n
		}
	}
	return counts, nil
}

// rewriteCold rewrites one object if it has rows of the user and returns
// how many it changed.
func (s *Service) rewriteCold(ctx context.Context, key, userID, hash string) (uint64, error) {
	const op = "privacy.rewriteCold"
	f, err := openCold(ctx, s.blobs, key)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	userCol, propsCol := f.column("user_id"), f.column("properties")
	if userCol < 0 {
		return 0, errs.E(op, errs.KindInternal, "cold object "+key+" has no user_id column")
	}
	var found uint64
	if err := f.each(func(row parquet.Row) error {
		if stringAt(row, userCol) == userID {
			found++
		}
		return nil
	}); err != nil || found == 0 {
		return 0, err
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		w := parquet.NewGenericWriter[any](pw, f.file.Schema(), parquet.Compression(&parquet.Zstd))
		err := f.each(func(row parquet.Row) error {
			if stringAt(row, userCol) != userID {
				_, err := w.WriteRows([]parquet.Row{row})
				return err
			}
			out := row.Clone()
			replace(out, userCol, []byte(hash))
			if propsCol >= 0 {
				if v := valueAt(out, propsCol); !v.IsNull() {
					replace(out, propsCol, s.stripPII(v.ByteArray()))
				}
			}
			_, err := w.WriteRows([]parquet.Row{out})
			return err
		})
		if err == nil {
			err = w.Close()
		}
		_ = pw.CloseWithError(err)
		done <- err
	}()
	putErr := s.blobs.Put(ctx, key, pr)
	_ = pr.CloseWithError(io.ErrClosedPipe)
	if err := <-done; err != nil && putErr == nil {
		return 0, errs.Wrap(op, errs.KindInternal, err, "cannot rewrite cold object "+key)
	}
	if putErr != nil {
		return 0, putErr
	}
	return found, nil
}

// replace sets the byte-array value of column col in row, keeping its levels.
func replace(row parquet.Row, col int, b []byte) {
	for i, v := range row {
		if v.Column() == col {
			row[i] = parquet.ByteArrayValue(b).Level(v.RepetitionLevel(), v.DefinitionLevel(), col)
			return
		}
	}
}

// stripPII removes the configured keys from a properties JSON object; text
// that is not an object is replaced by "{}" (it cannot be checked for PII).
func (s *Service) stripPII(props []byte) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(props, &m); err != nil {
		return []byte("{}")
	}
	for _, k := range s.cfg.PIIKeys {
		delete(m, k)
	}
	out, err := json.Marshal(m)
	if err != nil {
		return []byte("{}")
	}
	return out
}
