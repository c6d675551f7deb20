package exports

import (
	"io"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/rowfile"
)

// encoder writes rows in one file format (see rowfile.Encoder).
type encoder = rowfile.Encoder

// newEncoder returns the encoder of format f on w; date-times are written
// in loc by the text formats.
func newEncoder(f Format, w io.Writer, loc *time.Location) (encoder, error) {
	switch f {
	case FormatCSV:
		return rowfile.NewCSV(w, loc), nil
	case FormatJSON:
		return rowfile.NewJSON(w, loc), nil
	case FormatNDJSON:
		return rowfile.NewNDJSON(w, loc), nil
	case FormatXLSX:
		return rowfile.NewXLSX(w, loc), nil
	case FormatParquet:
		return rowfile.NewParquet(w), nil
	}
	return nil, errs.E("exports.encode", errs.KindInvalid, "unknown format "+string(f))
}
