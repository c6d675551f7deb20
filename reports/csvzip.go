package reports

import (
	"archive/zip"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/learnhub/analytics-service/platform/errs"
)

// writeCSVZip writes one CSV file per section into a zip
// ("01-active-learners.csv", …): a header row, then the rows; numbers in
// full precision. A failed section's file holds its error.
func writeCSVZip(w io.Writer, snap *Snapshot) error {
	const op = "reports.csv"
	z := zip.NewWriter(w)
	for i, sec := range snap.Sections {
		fw, err := z.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("%02d-%s.csv", i+1, slug(sec.Title)), Method: zip.Deflate,
			Modified: snap.GeneratedAt})
		if err != nil {
			return errs.Wrap(op, errs.KindInternal, err, "")
		}
		cw := csv.NewWriter(fw)
		if sec.Error != "" {
			_ = cw.Write([]string{"error"})
			_ = cw.Write([]string{sec.Error})
		} else {
			_ = cw.Write(sec.Columns)
			for _, row := range sec.Rows {
				rec := make([]string, len(row))
				for j, c := range row {
					rec[j] = c.Text
					if c.Num != nil {
						rec[j] = strconv.FormatFloat(*c.Num, 'f', -1, 64)
					}
				}
				_ = cw.Write(rec)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return errs.Wrap(op, errs.KindInternal, err, "")
		}
	}
	if err := z.Close(); err != nil {
		return errs.Wrap(op, errs.KindInternal, err, "")
	}
	return nil
}

// slug is a file-name form of a title: lower-case letters and digits
// joined by '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "section"
	}
	return truncateRunes(out, 60)
}
