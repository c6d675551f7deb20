package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/learnhub/analytics-service/platform/errs"
)

// maxSheetName is Excel's limit on sheet names.
const maxSheetName = 31

// writeXLSX writes one sheet per section: a bold header row, then the
// section's rows with numbers as numbers. A failed section's sheet says why.
func writeXLSX(w io.Writer, snap *Snapshot) error {
	const op = "reports.xlsx"
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E2E8F0"}}})
	if err != nil {
		return errs.Wrap(op, errs.KindInternal, err, "")
	}
	styles := &numberStyles{f: f, ids: map[NumberFormat]int{}}
	names := sheetNames(snap.Sections)
	for i, sec := range snap.Sections {
		if i == 0 {
			err = f.SetSheetName("Sheet1", names[0])
		} else {
			_, err = f.NewSheet(names[i])
		}
		if err == nil {
			err = writeSheet(f, names[i], &sec, bold, styles)
		}
		if err != nil {
			return errs.Wrap(op, errs.KindInternal, err, "")
		}
	}
	if len(snap.Sections) == 0 {
		if err := f.SetCellValue("Sheet1", "A1", "This report has no sections."); err != nil {
			return errs.Wrap(op, errs.KindInternal, err, "")
		}
	}
	if err := f.SetDocProps(&excelize.DocProperties{Title: snap.Title, Subject: snap.Period(), Creator: "LearnHub Analytics"}); err != nil {
		return errs.Wrap(op, errs.KindInternal, err, "")
	}
	if err := f.Write(w); err != nil {
		return errs.Wrap(op, errs.KindInternal, err, "")
	}
	return nil
}

// numberStyles are the cell styles of the number formats in use, made once
// per workbook.
type numberStyles struct {
	f   *excelize.File
	ids map[NumberFormat]int
}

// id is the style of cells printed with nf; 0 (General) for the zero value.
func (s *numberStyles) id(nf NumberFormat) (int, error) {
	if nf.Excel() == "" {
		return 0, nil
	}
	if id, ok := s.ids[nf]; ok {
		return id, nil
	}
	code := nf.Excel()
	id, err := s.f.NewStyle(&excelize.Style{CustomNumFmt: &code})
	s.ids[nf] = id
	return id, err
}

// writeSheet writes a section's table; numbers stay numbers, shown with
// their metric's number format ("0.0%" shows 0.625 as 62.5%).
func writeSheet(f *excelize.File, sheet string, sec *Section, bold int, styles *numberStyles) error {
	if sec.Error != "" {
		if err := f.SetCellValue(sheet, "A1", "No data"); err != nil {
			return err
		}
		return f.SetCellValue(sheet, "A2", sec.Error)
	}
	for c, name := range sec.Columns {
		cell, _ := excelize.CoordinatesToCellName(c+1, 1)
		if err := f.SetCellValue(sheet, cell, name); err != nil {
			return err
		}
	}
	if len(sec.Columns) > 0 {
		last, _ := excelize.CoordinatesToCellName(len(sec.Columns), 1)
		if err := f.SetCellStyle(sheet, "A1", last, bold); err != nil {
			return err
		}
		lastCol, _ := excelize.ColumnNumberToName(len(sec.Columns))
		if err := f.SetColWidth(sheet, "A", lastCol, 18); err != nil {
			return err
		}
	}
	for r, row := range sec.Rows {
		for c, cell := range row {
			name, _ := excelize.CoordinatesToCellName(c+1, r+2)
			if cell.Num == nil {
				if err := f.SetCellValue(sheet, name, cell.Text); err != nil {
					return err
				}
				continue
			}
			if err := f.SetCellValue(sheet, name, *cell.Num); err != nil {
				return err
			}
			style, err := styles.id(cell.Format)
			if err != nil {
				return err
			}
			if style != 0 {
				if err := f.SetCellStyle(sheet, name, name, style); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// sheetNames are the sections' titles as unique, valid sheet names.
func sheetNames(secs []Section) []string {
	seen := map[string]bool{}
	out := make([]string, len(secs))
	for i, sec := range secs {
		base := strings.Map(func(r rune) rune {
			if strings.ContainsRune(`[]:*?/\`, r) {
				return '-'
			}
			return r
		}, strings.TrimSpace(sec.Title))
		base = strings.Trim(base, "'")
		if base == "" {
			base = fmt.Sprintf("Widget %d", i+1)
		}
		name := truncateRunes(base, maxSheetName)
		for n := 2; seen[strings.ToLower(name)]; n++ {
			suffix := fmt.Sprintf(" (%d)", n)
			name = truncateRunes(base, maxSheetName-len(suffix)) + suffix
		}
		seen[strings.ToLower(name)] = true
		out[i] = name
	}
	return out
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
