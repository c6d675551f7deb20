package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The envelope decoder reads JSON with this scanner instead of
// encoding/json: one pass over the bytes validates the syntax (the grammar
// encoding/json accepts) and hands out the raw span of each top-level
// member, so the fixed envelope fields are read without reflection or
// per-field unmarshalling, and properties stays the original bytes.

// MaxDepth is the deepest nesting of objects and arrays an envelope may
// have, the envelope itself being level 1 (so properties may nest 127
// levels). ClickHouse refuses a JSON column value nested more than 1 024
// levels (measured on the embedded 26.7 engine: properties of depth 1 024
// stored, 1 025 refused); deeper envelopes were accepted here and then
// dead-lettered as rejected_by_store. The margin covers other engine
// versions and formats; no event a person designs nests this deep.
const MaxDepth = 128

// scanner walks one JSON text.
type scanner struct {
	data []byte
	pos  int
	// spaced counts the runs of insignificant whitespace skipped so far: a
	// value whose scan leaves it unchanged is compact already.
	spaced int
}

// depthError is nesting beyond MaxDepth at a byte offset: valid JSON,
// perhaps, but more than the store can keep.
type depthError struct {
	offset int
}

func (e *depthError) Error() string {
	return fmt.Sprintf("nested more than %d levels deep at byte %d", MaxDepth, e.offset)
}

// syntaxError is a JSON syntax error at a byte offset.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.offset) }

// member is a top-level member of an object: the key (unescaped), the raw
// value and whether the value held insignificant whitespace.
type member struct {
	key    []byte
	value  []byte
	spaced bool
}

// fail returns a syntax error at the current position.
func (s *scanner) fail(msg string) error { return &syntaxError{msg: msg, offset: s.pos} }

// unexpected describes the byte at the current position.
func (s *scanner) unexpected(context string) error {
	if s.pos >= len(s.data) {
		return s.fail("unexpected end of input " + context)
	}
	return s.fail(fmt.Sprintf("unexpected %q %s", s.data[s.pos], context))
}

// skipSpace moves past JSON whitespace.
func (s *scanner) skipSpace() {
	start := s.pos
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
			continue
		}
		break
	}
	if s.pos > start {
		s.spaced++
	}
}

// object reads the object at the current position and calls visit for
// each member in order; visit's error ends the scan.
func (s *scanner) object(depth int, visit func(member) error) error {
	if depth > MaxDepth {
		return &depthError{offset: s.pos}
	}
	s.pos++ // '{'
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.unexpected("where an object key should start")
		}
		start := s.pos
		escaped, err := s.str()
		if err != nil {
			return err
		}
		key := s.data[start+1 : s.pos-1]
		if escaped {
			key = []byte(unquote(s.data[start:s.pos]))
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.unexpected("after an object key")
		}
		s.pos++
		s.skipSpace()
		before := s.spaced
		vstart := s.pos
		if err := s.value(depth + 1); err != nil {
			return err
		}
		if visit != nil {
			if err := visit(member{key: key, value: s.data[vstart:s.pos], spaced: s.spaced != before}); err != nil {
				return err
			}
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.unexpected("in an object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipSpace()
		case '}':
			s.pos++
			return nil
		default:
			return s.unexpected("after an object value")
		}
	}
}

// array reads the array at the current position.
func (s *scanner) array(depth int) error {
	if depth > MaxDepth {
		return &depthError{offset: s.pos}
	}
	s.pos++ // '['
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.unexpected("in an array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipSpace()
		case ']':
			s.pos++
			return nil
		default:
			return s.unexpected("after an array element")
		}
	}
}

// value reads any JSON value at the current position (no leading space).
func (s *scanner) value(depth int) error {
	if s.pos >= len(s.data) {
		return s.unexpected("where a value should start")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(depth, nil)
	case c == '[':
		return s.array(depth)
	case c == '"':
		_, err := s.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.unexpected("where a value should start")
}

// literal reads true, false or null.
func (s *scanner) literal(word string) error {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(word)) {
		return s.fail("invalid literal (expected " + word + ")")
	}
	s.pos += len(word)
	return nil
}

// str reads a string at the current position, up to and including its
// closing quote, and reports whether it holds escapes. Control characters
// must be escaped; other bytes pass as they are (as in encoding/json).
func (s *scanner) str() (escaped bool, err error) {
	s.pos++ // '"'
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return escaped, nil
		case c == '\\':
			escaped = true
			if err := s.escape(); err != nil {
				return escaped, err
			}
		case c < 0x20:
			return escaped, s.fail("control character in a string")
		default:
			s.pos++
		}
	}
	return escaped, s.fail("unterminated string")
}

// escape reads one escape sequence at the current position.
func (s *scanner) escape() error {
	s.pos++ // '\\'
	if s.pos >= len(s.data) {
		return s.fail("unterminated string")
	}
	switch s.data[s.pos] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos++
		return nil
	case 'u':
		if s.pos+5 > len(s.data) {
			return s.fail("short \\u escape")
		}
		for _, h := range s.data[s.pos+1 : s.pos+5] {
			if unhex(h) < 0 {
				return s.fail("invalid \\u escape")
			}
		}
		s.pos += 5
		return nil
	}
	return s.fail("invalid escape")
}

// number reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	d := s.data
	if d[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(d) && d[s.pos] == '0':
		s.pos++
	case s.pos < len(d) && d[s.pos] >= '1' && d[s.pos] <= '9':
		s.digits()
	default:
		return s.fail("invalid number")
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return s.fail("invalid number: no digit after the decimal point")
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return s.fail("invalid number: no digit in the exponent")
		}
	}
	return nil
}

// digits moves past decimal digits and returns how many there were.
func (s *scanner) digits() int {
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos - start
}

// scanObject reads data, which must be exactly one JSON object (with
// optional surrounding whitespace), calling visit for each top-level
// member.
func scanObject(data []byte, visit func(member) error) error {
	s := scanner{data: data}
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '{' {
		return s.unexpected("where the object should start")
	}
	if err := s.object(1, visit); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(data) {
		return s.unexpected("after the object")
	}
	return nil
}

// lookup returns the value of key among the top-level members of obj, a
// valid JSON object; the last one wins when key repeats.
func lookup(obj []byte, key string) (value []byte, ok bool) {
	_ = scanObject(obj, func(m member) error {
		if string(m.key) == key {
			value, ok = m.value, true
		}
		return nil
	})
	return value, ok
}

// unquote returns the text of raw, a valid JSON string with its quotes.
// A string with escapes (rare in envelopes) is read by encoding/json, so
// escapes mean exactly what they mean there (a lone surrogate becomes
// U+FFFD).
func unquote(raw []byte) string {
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return string(body)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return string(body) // not reached: the scanner validated raw
	}
	return s
}

// compactJSON appends src, valid JSON, without insignificant whitespace.
func compactJSON(dst, src []byte) []byte {
	inString := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inString:
			dst = append(dst, c)
			if c == '\\' {
				i++
				dst = append(dst, src[i])
			} else if c == '"' {
				inString = false
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			dst = append(dst, c)
			inString = c == '"'
		}
	}
	return dst
}

// unhex is the value of a hex digit, or -1.
func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// nestedBeyond reports the offset of the first '{' or '[' in data that opens
// a level deeper than limit, without recursion and without validating
// anything else (strings are skipped, so brackets in them do not count).
// With perLine, every newline starts again at level 0 (NDJSON: a newline
// cannot occur inside a JSON value's string).
func nestedBeyond(data []byte, limit int, perLine bool) (offset int, beyond bool) {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			if depth++; depth > limit {
				return i, true
			}
		case '}', ']':
			if depth > 0 {
				depth--
			}
		case '\n':
			if perLine {
				depth = 0
			}
		}
	}
	return 0, false
}
