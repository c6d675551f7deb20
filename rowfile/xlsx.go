package rowfile

import (
	"archive/zip"
	"bufio"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/learnhub/analytics-service/store"
)

// maxSheetRows is Excel's row limit per sheet (header included).
const maxSheetRows = 1_048_576

// maxExactFloat is the largest integer a spreadsheet number holds exactly.
const maxExactFloat = 1 << 53

// xlsxEncoder writes rows through excelize's StreamWriter (which spills
// each sheet to a temporary file past 16 MB, so memory stays bounded),
// starting a new sheet with the header again when one is full. The archive
// is written straight to w: excelize's File.Write would build the whole
// zip in a memory buffer first. Numbers are numbers except integers beyond
// 2^53, which are text so no digit is lost; date-times are text in the
// export's zone.
type xlsxEncoder struct {
	w         io.Writer
	loc       *time.Location
	sheetRows int
	f         *excelize.File
	sw        *excelize.StreamWriter
	header    []any
	kinds     []colKind
	sheet     int
	row       int // rows written to the current sheet, header included
	cells     []any
}

func (e *xlsxEncoder) Begin(cols []store.Column) error {
	e.f = excelize.NewFile()
	// File.Write hands the zip writer a memory buffer; this one ignores it
	// and writes to w, leaving the buffer empty. (excelize patches the
	// version of zip64 entries, parts over 4 GB, in that buffer only: a
	// sheet's XML gets there only with rows of more than 4 KB.)
	e.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(bufio.NewWriterSize(e.w, 64<<10)) })
	for _, c := range cols {
		e.header = append(e.header, c.Name)
		e.kinds = append(e.kinds, kindOf(c.Type))
	}
	e.cells = make([]any, len(cols))
	return e.newSheet()
}

func (e *xlsxEncoder) newSheet() error {
	if e.sw != nil {
		if err := e.sw.Flush(); err != nil {
			return err
		}
	}
	e.sheet++
	name := "Sheet" + strconv.Itoa(e.sheet)
	if e.sheet > 1 {
		if _, err := e.f.NewSheet(name); err != nil {
			return err
		}
	}
	sw, err := e.f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	e.sw, e.row = sw, 1
	return e.sw.SetRow("A1", e.header)
}

func (e *xlsxEncoder) Row(vals []any) error {
	if e.row >= e.sheetRows {
		if err := e.newSheet(); err != nil {
			return err
		}
	}
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			e.cells[i] = nil
		case int64:
			if x > maxExactFloat || x < -maxExactFloat {
				e.cells[i] = strconv.FormatInt(x, 10)
			} else {
				e.cells[i] = x
			}
		case uint64:
			if x > maxExactFloat {
				e.cells[i] = strconv.FormatUint(x, 10)
			} else {
				e.cells[i] = x
			}
		case float64, bool:
			e.cells[i] = x
		default:
			e.cells[i] = text(v, e.kinds[i], e.loc)
		}
	}
	e.row++
	cell, err := excelize.CoordinatesToCellName(1, e.row)
	if err != nil {
		return err
	}
	return e.sw.SetRow(cell, e.cells)
}

func (e *xlsxEncoder) Close() error {
	if err := e.sw.Flush(); err != nil {
		return err
	}
	if err := e.f.Write(io.Discard); err != nil {
		return err
	}
	return e.f.Close()
}
