package chembedded

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Query results arrive as JSONCompactEachRowWithNamesAndTypes: one JSON
// array per line, the first two lines naming the columns and their types.
// It is a text format the engine streams chunk by chunk with whole lines,
// it maps nested types (arrays, maps, tuples, JSON) onto JSON naturally, and
// with output_format_json_quote_64bit_integers=0 it prints 64-bit integers
// as bare digits that are parsed exactly here, by column type. The decoder
// is hand-written (no reflection, no intermediate tree) because it runs once
// per value of every result.

// errSyntax is the cause of every malformed-line error.
var errSyntax = errors.New("malformed JSON from the engine")

// lineDecoder reads one line of a result.
type lineDecoder struct {
	b []byte
	i int
}

// decodeRow decodes a line holding one value per column into dst.
func decodeRow(line []byte, types []*colType, dst []any) error {
	d := lineDecoder{b: line}
	if !d.consume('[') {
		return d.fail("row does not start with [")
	}
	for n, t := range types {
		if n > 0 && !d.consume(',') {
			return d.fail(fmt.Sprintf("want %d values", len(types)))
		}
		v, err := d.value(t)
		if err != nil {
			return err
		}
		dst[n] = v
	}
	if !d.consume(']') {
		return d.fail(fmt.Sprintf("want %d values", len(types)))
	}
	return nil
}

// decodeStrings decodes a header line (a JSON array of strings).
func decodeStrings(line []byte) ([]string, error) {
	d := lineDecoder{b: line}
	if !d.consume('[') {
		return nil, d.fail("header does not start with [")
	}
	var out []string
	if d.consume(']') {
		return out, nil
	}
	for {
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, d.fail("header value is not a string")
		}
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		if d.consume(']') {
			return out, nil
		}
		if !d.consume(',') {
			return nil, d.fail("header values not separated by ,")
		}
	}
}

func (d *lineDecoder) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", errSyntax, what, d.i)
}

func (d *lineDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume skips blanks and then c, reporting whether c was there.
func (d *lineDecoder) consume(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// value decodes one value of type t (nil for JSON null).
func (d *lineDecoder) value(t *colType) (any, error) {
	d.ws()
	if d.i >= len(d.b) {
		return nil, d.fail("value missing")
	}
	c := d.b[d.i]
	if c == 'n' && d.word("null") {
		return nil, nil
	}
	switch t.kind {
	case kindInt:
		raw, err := d.scalar()
		if err != nil {
			return nil, err
		}
		n, ok := parseInt(raw)
		if !ok {
			return nil, d.fail(fmt.Sprintf("%q is not an Int64", raw))
		}
		return n, nil
	case kindUint:
		raw, err := d.scalar()
		if err != nil {
			return nil, err
		}
		n, ok := parseUint(raw)
		if !ok {
			return nil, d.fail(fmt.Sprintf("%q is not a UInt64", raw))
		}
		return n, nil
	case kindFloat:
		raw, err := d.scalar()
		if err != nil {
			return nil, err
		}
		f, ok := parseFloat(raw)
		if !ok {
			return nil, d.fail(fmt.Sprintf("%q is not a float", raw))
		}
		return f, nil
	case kindBool:
		switch {
		case d.word("true"):
			return true, nil
		case d.word("false"):
			return false, nil
		}
		return nil, d.fail("want true or false")
	case kindText:
		if c == '"' {
			return d.str()
		}
		if c == '[' || c == '{' {
			return d.generic()
		}
		raw, err := d.scalar()
		return string(raw), err
	case kindDate, kindDateTime:
		return d.time(t)
	case kindArray:
		if c != '[' {
			return d.generic()
		}
		return d.array(func(int) *colType { return t.elem })
	case kindMap:
		if c != '{' {
			return d.generic()
		}
		return d.object(func(string) *colType { return t.elem })
	case kindTuple:
		switch c {
		case '[':
			return d.array(func(i int) *colType {
				if i < len(t.elems) {
					return t.elems[i]
				}
				return &colType{}
			})
		case '{':
			return d.object(func(k string) *colType {
				for i, n := range t.names {
					if n == k {
						return t.elems[i]
					}
				}
				return &colType{}
			})
		}
	}
	return d.generic()
}

// generic decodes any JSON value: objects become map[string]any, arrays
// []any, integers int64 (or uint64 above the int64 range), other numbers
// float64.
func (d *lineDecoder) generic() (any, error) {
	d.ws()
	if d.i >= len(d.b) {
		return nil, d.fail("value missing")
	}
	switch c := d.b[d.i]; {
	case c == '"':
		return d.str()
	case c == '[':
		return d.array(func(int) *colType { return &colType{} })
	case c == '{':
		return d.object(func(string) *colType { return &colType{} })
	case d.word("null"):
		return nil, nil
	case d.word("true"):
		return true, nil
	case d.word("false"):
		return false, nil
	}
	raw, err := d.scalar()
	if err != nil {
		return nil, err
	}
	if n, ok := parseInt(raw); ok {
		return n, nil
	}
	if n, ok := parseUint(raw); ok {
		return n, nil
	}
	if f, ok := parseFloat(raw); ok {
		return f, nil
	}
	return nil, d.fail(fmt.Sprintf("%q is not a JSON value", raw))
}

func (d *lineDecoder) array(elem func(int) *colType) (any, error) {
	d.i++ // [
	out := []any{}
	if d.consume(']') {
		return out, nil
	}
	for n := 0; ; n++ {
		v, err := d.value(elem(n))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if d.consume(']') {
			return out, nil
		}
		if !d.consume(',') {
			return nil, d.fail("array values not separated by ,")
		}
	}
}

func (d *lineDecoder) object(elem func(string) *colType) (any, error) {
	d.i++ // {
	out := map[string]any{}
	if d.consume('}') {
		return out, nil
	}
	for {
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, d.fail("object key is not a string")
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		if !d.consume(':') {
			return nil, d.fail("object key without :")
		}
		v, err := d.value(elem(k))
		if err != nil {
			return nil, err
		}
		out[k] = v
		if d.consume('}') {
			return out, nil
		}
		if !d.consume(',') {
			return nil, d.fail("object members not separated by ,")
		}
	}
}

// time decodes the engine's "2006-01-02 15:04:05[.fff…]" text (or an epoch
// number) printed in t.loc, returning it in UTC.
func (d *lineDecoder) time(t *colType) (any, error) {
	if d.b[d.i] != '"' {
		raw, err := d.scalar()
		if err != nil {
			return nil, err
		}
		f, ok := parseFloat(raw)
		if !ok {
			return nil, d.fail(fmt.Sprintf("%q is not a time", raw))
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
	}
	s, err := d.str()
	if err != nil {
		return nil, err
	}
	layout := "2006-01-02 15:04:05.999999999"
	if t.kind == kindDate {
		layout = "2006-01-02"
	}
	loc := t.loc
	if loc == nil {
		loc = time.UTC
	}
	tm, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return nil, d.fail(fmt.Sprintf("%q is not a time", s))
	}
	return tm.UTC(), nil
}

// word consumes the literal w if it is next.
func (d *lineDecoder) word(w string) bool {
	if len(d.b)-d.i >= len(w) && string(d.b[d.i:d.i+len(w)]) == w {
		d.i += len(w)
		return true
	}
	return false
}

// scalar returns the text of a number, or the contents of a quoted string
// (64-bit integers and nan/inf may come quoted).
func (d *lineDecoder) scalar() ([]byte, error) {
	if d.b[d.i] == '"' {
		s, err := d.str()
		return []byte(s), err
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			d.i++
			continue
		}
		break
	}
	if d.i == start {
		return nil, d.fail("value missing")
	}
	return d.b[start:d.i], nil
}

// str decodes a JSON string starting at its opening quote. Bytes that are
// not valid UTF-8 pass through unchanged (the engine does not validate).
func (d *lineDecoder) str() (string, error) {
	d.i++ // opening quote
	start := d.i
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case '"':
			s := string(d.b[start:d.i])
			d.i++
			return s, nil
		case '\\':
			return d.strEscaped(start)
		}
		d.i++
	}
	return "", d.fail("unterminated string")
}

func (d *lineDecoder) strEscaped(start int) (string, error) {
	out := make([]byte, 0, d.i-start+16)
	out = append(out, d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch c {
		case '"':
			d.i++
			return string(out), nil
		case '\\':
			if d.i+1 >= len(d.b) {
				return "", d.fail("unterminated escape")
			}
			e := d.b[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", d.fail("bad \\u escape")
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(utf8.RuneError)
					save := d.i
					if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
						d.i += 2
						lo, ok := d.hex4()
						if ok {
							r2 = utf16.DecodeRune(r, lo)
						}
						if !ok || r2 == utf8.RuneError {
							d.i = save
						}
					}
					r = r2
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", d.fail("unknown escape")
			}
		default:
			out = append(out, c)
			d.i++
		}
	}
	return "", d.fail("unterminated string")
}

func (d *lineDecoder) hex4() (rune, bool) {
	if len(d.b)-d.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.i += 4
	return r, true
}

// parseUint parses decimal digits exactly, without allocating.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseInt parses an optionally negative decimal integer exactly.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	u, ok := parseUint(b)
	switch {
	case !ok:
		return 0, false
	case neg && u <= 1<<63:
		return int64(-u), true // -(1<<63) wraps to math.MinInt64
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	}
	return 0, false
}

func parseFloat(b []byte) (float64, bool) {
	switch string(b) {
	case "nan", "-nan", "+nan":
		return math.NaN(), true
	case "inf", "+inf":
		return math.Inf(1), true
	case "-inf":
		return math.Inf(-1), true
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}
