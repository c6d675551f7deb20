package reports

import (
	"io"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Render writes snap in format f: the A4 PDF (pdf.go), the workbook with
// one sheet per section (xlsx.go) or the zip of CSV files (csvzip.go).
func Render(w io.Writer, f Format, snap *Snapshot) error {
	switch f {
	case FormatPDF:
		return writePDF(w, snap)
	case FormatXLSX:
		return writeXLSX(w, snap)
	case FormatCSVZip:
		return writeCSVZip(w, snap)
	}
	return errs.Invalid("reports.Render", "format", "format "+string(f)+" is not supported; use PDF, XLSX or CSV_ZIP")
}
