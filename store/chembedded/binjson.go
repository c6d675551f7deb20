package chembedded

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/learnhub/analytics-service/store"
)

// JSON columns in RowBinary go as the engine's own binary JSON layout when
// every value of the insert allows it: per row the number of paths, then
// each path's name and its value as a Dynamic (a type code, then the value).
// Parsing the JSON text was most of the engine's insert CPU for the events
// table (issue #25: 6.4–7.7 µs/row with the text, 3.8–4.6 µs/row binary,
// the engine's INSERT … SELECT 4.7–5.6 µs/row).
//
// The engine infers each value's type when it parses the text; the binary
// layout names the type, so the encoder must name the one the engine would
// have inferred, or the stored data would differ with the format. It does so
// only where the rule is certain and sends the whole insert as JSON text
// otherwise:
//
//   - nested objects become dotted paths; an empty object or a null adds no
//     path (as the parser does);
//   - true/false are Bool; integers Int64, or UInt64 above Int64's range;
//   - strings are String only when the engine itself said so: a string may
//     be read as a Date or DateTime ("2026-01-01", "Dec 5 2025"), so each
//     distinct string is classified once by the engine (jsonStrings) and
//     remembered;
//   - inserts under jsonBinaryMinRows rows, or with more unknown strings
//     than one per jsonClassifyShare rows, keep the text: the classifying
//     query would cost more than the parse it saves;
//   - floats (the engine's fast float reader may differ from Go's in the
//     last bit), arrays (inferred element types), strings with escapes,
//     keys with dots, escapes or duplicates: text.
//
// TestBinaryJSONStoresWhatTextStores compares what the engine stores both
// ways.

// Type codes of the engine's binary type encoding (Dynamic values).
const (
	jsonTypeUInt64 = 0x04
	jsonTypeInt64  = 0x0a
	jsonTypeString = 0x15
	jsonTypeBool   = 0x2d
)

// jsonStringsMax bounds the strings remembered by a backend; the memory is
// cleared when it is full (ids of a few hundred courses and lessons repeat
// in every batch; a string unique to its event is not worth remembering).
const jsonStringsMax = 1 << 16

// jsonClassifyMax is the most strings one insert asks the engine about;
// an insert with more unknown strings (an id unique per event, say) goes as
// text, which costs no more than it did before.
const jsonClassifyMax = 4096

// jsonBinaryMinRows is the smallest insert whose JSON goes in the binary
// layout: a small insert's parse costs the engine little, less than a
// query classifying its strings would.
const jsonBinaryMinRows = 512

// jsonClassifyShare bounds the unknown strings of an insert to one per
// jsonClassifyShare rows: strings unique to their event (ids, free text)
// would cost a classifying query per insert and never be met again, so
// such an insert sends its JSON as text.
const jsonClassifyShare = 8

// jsonClassifyChunk is how many strings one classifying query carries, well
// under the JSON type's 1024 dynamic paths.
const jsonClassifyChunk = 512

// jsonStrings remembers which JSON string values the engine reads as a
// plain String (true) or infers another type for (false). The key is the
// string's JSON token, quotes included.
type jsonStrings struct {
	mu sync.Mutex
	m  map[string]bool
}

// lookup returns what is known of tok.
func (s *jsonStrings) lookup(tok []byte) (plain, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	plain, known = s.m[string(tok)]
	return plain, known
}

// remember stores the engine's verdicts.
func (s *jsonStrings) remember(verdicts map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m)+len(verdicts) > jsonStringsMax {
		s.m = make(map[string]bool, len(verdicts))
	}
	for k, v := range verdicts {
		s.m[k] = v
	}
}

// jsonBinaryColumns reports whether the insert's JSON columns can go in the
// binary layout: each is a top-level, non-Nullable JSON column (JSON inside
// an Array or Map would follow the same setting) and no setting of the
// insert changes how the engine infers types.
func jsonBinaryColumns(types []*binType, settings store.Settings) bool {
	for name := range settings {
		if strings.HasPrefix(name, "input_format_") || strings.HasPrefix(name, "date_time_") {
			return false
		}
	}
	found := false
	for _, t := range types {
		switch {
		case t.code == binJSON && !t.nullable:
			found = true
		case t.code == binJSON || nestsJSON(t):
			return false
		}
	}
	return found
}

// nestsJSON reports whether t holds a JSON type inside it.
func nestsJSON(t *binType) bool {
	if t == nil {
		return false
	}
	if t.elem != nil && (t.elem.code == binJSON || nestsJSON(t.elem)) {
		return true
	}
	return t.key != nil && (t.key.code == binJSON || nestsJSON(t.key))
}

// jsonText is v's JSON text when v is JSON text the binary layout may be
// built from (store.ValidJSON, or json.RawMessage that binFits has already
// checked to be valid).
func jsonText(v any) ([]byte, bool) {
	switch x := v.(type) {
	case store.ValidJSON:
		return x, true
	case json.RawMessage:
		return x, true
	}
	return nil, false
}

// binaryJSONFits reports whether every JSON value of rows (in the columns
// jsonBinaryColumns accepted) has a certain binary layout, asking the engine
// on c about strings it has not classified before.
func (b *Backend) binaryJSONFits(c *conn, types []*binType, rows [][]any, settings store.Settings) bool {
	if len(rows) < jsonBinaryMinRows || !jsonBinaryColumns(types, settings) {
		return false
	}
	unknown := map[string]bool{}
	var w jsonWalker
	for _, row := range rows {
		for i, t := range types {
			if t.code != binJSON {
				continue
			}
			text, ok := jsonText(row[i])
			if !ok {
				return false
			}
			ok = w.walk(text, func(_ []byte, tok []byte) bool {
				switch tok[0] {
				case 't', 'f':
					return true
				case '"':
				default:
					_, _, ok := jsonInteger(tok)
					return ok
				}
				plain, known := b.jsonStrings.lookup(tok)
				if !known {
					if len(unknown) < jsonClassifyMax {
						unknown[string(tok)] = true
					}
					return len(unknown) < jsonClassifyMax
				}
				return plain
			})
			if !ok {
				return false
			}
		}
	}
	if len(unknown) == 0 {
		return true
	}
	if len(unknown) > len(rows)/jsonClassifyShare {
		return false
	}
	verdicts, ok := classifyJSONStrings(c, unknown)
	if !ok {
		return false
	}
	b.jsonStrings.remember(verdicts)
	for _, plain := range verdicts {
		if !plain {
			return false
		}
	}
	return true
}

// classifyJSONStrings asks the engine which of the string tokens it reads
// as String: it parses them as the members of JSON objects and lists the
// paths of another type. It reports false when a query fails (the insert
// then goes as text, whose own errors are the ones callers know).
func classifyJSONStrings(c *conn, toks map[string]bool) (map[string]bool, bool) {
	list := make([]string, 0, len(toks))
	for tok := range toks {
		list = append(list, tok)
	}
	verdicts := make(map[string]bool, len(list))
	for off := 0; off < len(list); off += jsonClassifyChunk {
		chunk := list[off:min(off+jsonClassifyChunk, len(list))]
		var obj bytes.Buffer
		obj.WriteByte('{')
		for i, tok := range chunk {
			if i > 0 {
				obj.WriteByte(',')
			}
			obj.WriteString(`"` + strconv.Itoa(i) + `":`)
			obj.WriteString(tok)
		}
		obj.WriteByte('}')
		out, msg := c.query(
			"SELECT arrayStringConcat(mapKeys(mapFilter((p, t) -> t != 'String', JSONAllPathsWithTypes(CAST({j:String}, 'JSON')))), ',') SETTINGS max_execution_time = 10",
			"TSVRaw", []store.Param{{Name: "j", Type: "String", Value: escapeParam(obj.String())}})
		if msg != "" {
			c.broken = true
			return nil, false
		}
		for _, tok := range chunk {
			verdicts[tok] = true
		}
		for idx := range strings.SplitSeq(strings.TrimSpace(string(out)), ",") {
			if idx == "" {
				continue
			}
			n, err := strconv.Atoi(idx)
			if err != nil || n < 0 || n >= len(chunk) {
				return nil, false
			}
			verdicts[chunk[n]] = false
		}
	}
	return verdicts, true
}

// binJSONPaths appends a JSON value (text binaryJSONFits accepted) in the
// binary layout: the number of paths, then each path and its typed value.
func binJSONPaths(b []byte, w *jsonWalker, v any) ([]byte, error) {
	text, ok := jsonText(v)
	if !ok {
		return b, errNotBinary
	}
	w.paths = w.paths[:0]
	n := 0
	ok = w.walk(text, func(path, tok []byte) bool {
		w.paths = binBytes(w.paths, path)
		switch tok[0] {
		case '"':
			w.paths = append(w.paths, jsonTypeString)
			w.paths = binBytes(w.paths, tok[1:len(tok)-1])
		case 't', 'f':
			w.paths = append(w.paths, jsonTypeBool, boolByte(tok[0] == 't'))
		default:
			code, n, ok := jsonInteger(tok)
			if !ok {
				return false
			}
			w.paths = binary.LittleEndian.AppendUint64(append(w.paths, code), n)
		}
		n++
		return true
	})
	if !ok {
		return b, errNotBinary
	}
	b = binary.AppendUvarint(b, uint64(n))
	return append(b, w.paths...), nil
}

// jsonInteger reads an integer token as the engine types it: Int64 when
// it fits, else UInt64 when it fits (the engine refuses larger ones); n is
// the value's bits.
func jsonInteger(tok []byte) (code byte, n uint64, ok bool) {
	neg := tok[0] == '-'
	if neg {
		tok = tok[1:]
	}
	if len(tok) == 0 {
		return 0, 0, false
	}
	var u uint64
	for _, c := range tok {
		d := uint64(c - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, 0, false
		}
		u = u*10 + d
	}
	switch {
	case neg && u <= 1<<63:
		return jsonTypeInt64, -u, true
	case neg:
		return 0, 0, false
	case u <= math.MaxInt64:
		return jsonTypeInt64, u, true
	}
	return jsonTypeUInt64, u, true
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// jsonWalker visits the leaf values of a valid JSON object with their
// dotted paths. Its buffers are reused from one object to the next.
type jsonWalker struct {
	path  []byte
	keys  [][]byte // the keys of the objects being walked, for duplicates
	paths []byte   // binJSONPaths' output before its count
}

// walk calls visit for each leaf of the object text with its path and its
// token (a string with its quotes, a number, true or false); nulls and
// empty objects are skipped as the engine skips them. It reports false when
// text is not an object, holds a value or key the binary layout does not
// take for certain (see the package comment above), or visit returns false.
func (w *jsonWalker) walk(text []byte, visit func(path, tok []byte) bool) bool {
	w.path = w.path[:0]
	w.keys = w.keys[:0]
	rest, ok := w.object(skipSpace(text), visit)
	return ok && len(skipSpace(rest)) == 0
}

// object walks the object at the start of s and returns what follows it.
func (w *jsonWalker) object(s []byte, visit func(path, tok []byte) bool) ([]byte, bool) {
	if len(s) == 0 || s[0] != '{' {
		return s, false
	}
	s = skipSpace(s[1:])
	if len(s) > 0 && s[0] == '}' {
		return s[1:], true
	}
	base, firstKey := len(w.path), len(w.keys)
	defer func() { w.path, w.keys = w.path[:base], w.keys[:firstKey] }()
	for {
		key, rest, ok := plainString(s)
		if !ok || len(key) == 0 || bytes.IndexByte(key, '.') >= 0 {
			return s, false
		}
		for _, k := range w.keys[firstKey:] {
			if bytes.Equal(k, key) {
				return s, false
			}
		}
		w.keys = append(w.keys, key)
		s = skipSpace(rest)
		if len(s) == 0 || s[0] != ':' {
			return s, false
		}
		s = skipSpace(s[1:])
		w.path = append(w.path[:base], key...)
		if len(s) == 0 {
			return s, false
		}
		switch c := s[0]; {
		case c == '{':
			w.path = append(w.path, '.')
			if s, ok = w.object(s, visit); !ok {
				return s, false
			}
		case c == '"':
			_, rest, ok := plainString(s)
			if !ok || !visit(w.path, s[:len(s)-len(rest)]) {
				return s, false
			}
			s = rest
		case c == 'n':
			if !bytes.HasPrefix(s, []byte("null")) {
				return s, false
			}
			s = s[4:]
		case c == 't' || c == 'f':
			n := 4
			if c == 'f' {
				n = 5
			}
			if len(s) < n || !visit(w.path, s[:n]) {
				return s, false
			}
			s = s[n:]
		case c == '-' || c >= '0' && c <= '9':
			n := 1
			for n < len(s) && s[n] >= '0' && s[n] <= '9' {
				n++
			}
			if n < len(s) && (s[n] == '.' || s[n] == 'e' || s[n] == 'E') {
				return s, false // a float: text
			}
			if !visit(w.path, s[:n]) {
				return s, false
			}
			s = s[n:]
		default:
			return s, false // an array: text
		}
		s = skipSpace(s)
		if len(s) == 0 {
			return s, false
		}
		switch s[0] {
		case ',':
			s = skipSpace(s[1:])
		case '}':
			return s[1:], true
		default:
			return s, false
		}
	}
}

// plainString reads a JSON string without escapes at the start of s and
// returns its contents and what follows it.
func plainString(s []byte) (contents, rest []byte, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return nil, s, false
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			return s[1:i], s[i+1:], true
		case '\\':
			return nil, s, false
		}
	}
	return nil, s, false
}

// skipSpace drops the whitespace JSON allows between tokens.
func skipSpace(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') {
		s = s[1:]
	}
	return s
}
