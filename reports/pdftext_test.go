package reports_test

import (
	"bytes"
	"cmp"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/require"
	"rsc.io/pdf"
)

// pdfRun is one string a page's content stream shows, where it starts.
type pdfRun struct {
	x, y float64
	text string
}

// pdfText reads back the text a PDF draws, page by page and line by line
// (top to bottom; on a line, left to right, runs joined by a space), from
// the text-showing operators of each page's content stream: what the words
// on the page are, not what some metadata claims. Fonts with Identity-H
// encoding (fpdf's embedded UTF-8 fonts) carry UTF-16BE code units, whose
// ToUnicode map fpdf writes as the identity; simple fonts carry
// WinAnsi bytes, read as Latin-1 (the generator writes only embedded UTF-8
// fonts, so this path only keeps a stray core font legible).
func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	var out strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		page := r.Page(i)
		var runs []pdfRun
		var x, y, lead float64
		var utf16be bool
		show := func(raw string) {
			if utf16be {
				u := make([]uint16, len(raw)/2)
				for j := range u {
					u[j] = uint16(raw[2*j])<<8 | uint16(raw[2*j+1])
				}
				raw = string(utf16.Decode(u))
			} else {
				rs := make([]rune, len(raw))
				for j := range len(raw) {
					rs[j] = rune(raw[j])
				}
				raw = string(rs)
			}
			// Runs of one line share a baseline up to rounding.
			runs = append(runs, pdfRun{x: x, y: math.Round(y), text: raw})
		}
		pdf.Interpret(page.V.Key("Contents"), func(stk *pdf.Stack, op string) {
			args := make([]pdf.Value, stk.Len())
			for j := len(args) - 1; j >= 0; j-- {
				args[j] = stk.Pop()
			}
			switch op {
			case "BT":
				x, y = 0, 0
			case "Tf":
				utf16be = page.Font(args[0].Name()).V.Key("Encoding").Name() == "Identity-H"
			case "Td", "TD":
				x, y = x+args[0].Float64(), y+args[1].Float64()
				if op == "TD" {
					lead = -args[1].Float64()
				}
			case "TL":
				lead = args[0].Float64()
			case "Tm":
				x, y = args[4].Float64(), args[5].Float64()
			case "T*":
				y -= lead
			case "Tj", "'":
				show(args[len(args)-1].RawString())
			case "TJ":
				var s strings.Builder
				for j := range args[0].Len() {
					if v := args[0].Index(j); v.Kind() == pdf.String {
						s.WriteString(v.RawString())
					}
				}
				show(s.String())
			}
		})
		slices.SortStableFunc(runs, func(a, b pdfRun) int {
			return cmp.Or(cmp.Compare(b.y, a.y), cmp.Compare(a.x, b.x))
		})
		for j, run := range runs {
			switch {
			case j == 0:
			case runs[j-1].y != run.y:
				out.WriteString("\n")
			default:
				out.WriteString(" ")
			}
			out.WriteString(run.text)
		}
		out.WriteString("\n\f")
	}
	return out.String()
}
