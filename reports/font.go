package reports

import (
	"strings"
	"unicode"

	"codeberg.org/go-fonts/liberation/liberationsansbold"
	"codeberg.org/go-fonts/liberation/liberationsansitalic"
	"codeberg.org/go-fonts/liberation/liberationsansregular"
	"golang.org/x/text/unicode/norm"
)

// fontFamily is the PDF's name for Liberation Sans, the typeface of all
// report text: metric-compatible with Helvetica, with glyphs for Latin
// (Vietnamese included), Greek, Cyrillic and Hebrew, but none for CJK.
// Charts use the same typeface (gonum/plot's "Liberation", variant "Sans").
const fontFamily = "LiberationSans"

// font selects fontFamily in style ("", "B" or "I") at size points. A
// style is embedded on its first use, so a PDF carries only the styles it
// shows, and of those fpdf writes only the glyphs the text uses.
func (d *pdfDoc) font(style string, size float64) {
	ttf := liberationsansregular.TTF
	switch style {
	case "B":
		ttf = liberationsansbold.TTF
	case "I":
		ttf = liberationsansitalic.TTF
	}
	d.f.AddUTF8FontFromBytes(fontFamily, style, ttf) // a no-op once added
	d.f.SetFont(fontFamily, style, size)
}

// pdfText is s as fpdf can write it in fontFamily. It is put in NFC, so
// accented letters use the font's precomposed glyphs (fpdf does not place
// combining marks). Runes outside the Basic Multilingual Plane (emoji,
// rare CJK), which make fpdf panic, become U+FFFD; variation selectors,
// invisible anyway, are dropped. Other runes the font lacks (CJK) stay:
// viewers draw the font's empty box at the width fpdf measured, and the
// text can still be searched and copied.
func pdfText(s string) string {
	s = norm.NFC.String(s)
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.Variation_Selector, r):
			return -1
		case r > 0xFFFF:
			return unicode.ReplacementChar
		}
		return r
	}, s)
}
