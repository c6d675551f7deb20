package chembedded

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Streamed query results arrive as RowBinaryWithNamesAndTypes: a header
// (column count, names, types as text) and then the rows, each value in its
// type's binary layout. The engine writes it several times faster than a
// text format, above all for JSON columns, whose values it would otherwise
// print as text for the decoder to parse again. Every value decodes to what
// the text decoder (decode.go) makes of the same value in
// JSONCompactEachRowWithNamesAndTypes, so callers cannot tell the formats
// apart; a result with a column type this decoder does not read (see
// parseBinType) is fetched again in the text format.

// binaryFormat is the output format of streamed queries.
const binaryFormat = "RowBinaryWithNamesAndTypes"

// plainCodes are the types without parameters by their binary type code,
// shared so that a Dynamic value's type costs no allocation. Never modified.
var plainCodes = map[byte]*binType{
	0x00: {code: binNothing},
	0x01: {code: binUint, size: 1}, 0x02: {code: binUint, size: 2}, 0x03: {code: binUint, size: 4}, 0x04: {code: binUint, size: 8},
	0x07: {code: binInt, size: 1}, 0x08: {code: binInt, size: 2}, 0x09: {code: binInt, size: 4}, 0x0A: {code: binInt, size: 8},
	0x0D: {code: binFloat32}, 0x0E: {code: binFloat64},
	0x0F: {code: binDate}, 0x10: {code: binDate32}, 0x11: {code: binDateTime, loc: time.UTC},
	0x15: {code: binString}, 0x1D: {code: binUUID}, 0x28: {code: binIPv4}, 0x2D: {code: binBool},
}

// binReader reads RowBinary values from a chunk.
type binReader struct {
	b []byte
	i int
}

// binHeader is a chunk's header: column names and types.
type binHeader struct {
	names []string
	types []string
}

func (r *binReader) fail(what string) error {
	return fmt.Errorf("%w: RowBinary %s at byte %d", errSyntax, what, r.i)
}

// take returns the next n bytes.
func (r *binReader) take(n int) ([]byte, error) {
	if n < 0 || len(r.b)-r.i < n {
		return nil, r.fail("value cut short")
	}
	p := r.b[r.i : r.i+n]
	r.i += n
	return p, nil
}

func (r *binReader) byte1() (byte, error) {
	if r.i >= len(r.b) {
		return 0, r.fail("value cut short")
	}
	c := r.b[r.i]
	r.i++
	return c, nil
}

func (r *binReader) uvarint() (uint64, error) {
	n, k := binary.Uvarint(r.b[r.i:])
	if k <= 0 {
		return 0, r.fail("bad length")
	}
	r.i += k
	return n, nil
}

// length reads a length prefix that must fit in what is left of the chunk.
func (r *binReader) length() (int, error) {
	n, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(r.b)-r.i) {
		return 0, r.fail("length beyond the chunk")
	}
	return int(n), nil
}

func (r *binReader) str() (string, error) {
	n, err := r.length()
	if err != nil {
		return "", err
	}
	p, _ := r.take(n)
	return string(p), nil
}

// header reads the column names and their types.
func (r *binReader) header() (binHeader, error) {
	n, err := r.length()
	if err != nil {
		return binHeader{}, err
	}
	h := binHeader{names: make([]string, n), types: make([]string, n)}
	for _, list := range [][]string{h.names, h.types} {
		for i := range list {
			if list[i], err = r.str(); err != nil {
				return binHeader{}, err
			}
		}
	}
	return h, nil
}

// row decodes one row into dst.
func (r *binReader) row(types []*binType, dst []any) error {
	for n, t := range types {
		v, err := r.value(t, false)
		if err != nil {
			return err
		}
		dst[n] = v
	}
	return nil
}

// value decodes one value of t. generic decodes it as the text decoder's
// generic path would read its JSON text: the form of values inside JSON,
// Dynamic and Variant columns.
func (r *binReader) value(t *binType, generic bool) (any, error) {
	if t.nullable {
		null, err := r.byte1()
		if err != nil {
			return nil, err
		}
		if null != 0 {
			return nil, nil
		}
	}
	switch t.code {
	case binInt:
		p, err := r.take(t.size)
		if err != nil {
			return nil, err
		}
		return signed(p), nil
	case binUint:
		p, err := r.take(t.size)
		if err != nil {
			return nil, err
		}
		u := unsigned(p)
		if generic && u <= math.MaxInt64 {
			return int64(u), nil
		}
		return u, nil
	case binBigInt, binBigUint, binDecimal:
		p, err := r.take(t.size)
		if err != nil {
			return nil, err
		}
		s := bigText(p, t.code != binBigUint, t.scale)
		if generic {
			return genericNumber(s), nil
		}
		return s, nil
	case binFloat32, binFloat64:
		f, err := r.float(t.code == binFloat32)
		if err != nil || !generic {
			return f, err
		}
		return genericFloat(f), nil
	case binBool:
		c, err := r.byte1()
		return c != 0, err
	case binString:
		return r.str()
	case binFixed:
		p, err := r.take(t.size)
		return string(p), err
	case binUUID:
		p, err := r.take(16)
		if err != nil {
			return nil, err
		}
		return uuidText(p), nil
	case binIPv4:
		p, err := r.take(4)
		if err != nil {
			return nil, err
		}
		return fmt.Sprintf("%d.%d.%d.%d", p[3], p[2], p[1], p[0]), nil
	case binEnum:
		p, err := r.take(t.size)
		if err != nil {
			return nil, err
		}
		name, ok := t.enum[int16(signed(p))]
		if !ok {
			return nil, r.fail("unknown Enum value")
		}
		return name, nil
	case binDate, binDate32, binDateTime, binDateTime64:
		return r.time(t, generic)
	case binArray:
		n, err := r.length()
		if err != nil {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = r.value(t.elem, generic); err != nil {
				return nil, err
			}
		}
		return out, nil
	case binMap:
		n, err := r.length()
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, n)
		for range n {
			k, err := r.value(t.key, true)
			if err != nil {
				return nil, err
			}
			v, err := r.value(t.elem, generic)
			if err != nil {
				return nil, err
			}
			out[keyText(k)] = v
		}
		return out, nil
	case binTuple:
		return r.tuple(t, generic)
	case binVariant:
		d, err := r.byte1()
		if err != nil {
			return nil, err
		}
		if d == 255 {
			return nil, nil
		}
		if int(d) >= len(t.elems) {
			return nil, r.fail("bad Variant discriminator")
		}
		return r.value(t.elems[d], true)
	case binJSON:
		return r.object(t)
	case binDynamic:
		vt, err := r.typeCode()
		if err != nil {
			return nil, err
		}
		if vt.code == binNothing {
			return nil, nil
		}
		return r.value(vt, true)
	}
	return nil, r.fail("value of type Nothing")
}

func (r *binReader) float(single bool) (float64, error) {
	if single {
		p, err := r.take(4)
		if err != nil {
			return 0, err
		}
		f := math.Float32frombits(binary.LittleEndian.Uint32(p))
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return float64(f), nil
		}
		// The text format prints a Float32 as its shortest decimal form,
		// which reads back as the nearest float64 to that, not to the
		// Float32 itself.
		v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
		return v, nil
	}
	p, err := r.take(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(p)), nil
}

// time decodes dates and date-times to UTC instants, or in generic form to
// the text the engine prints (in the type's zone).
func (r *binReader) time(t *binType, generic bool) (any, error) {
	var tm time.Time
	switch t.code {
	case binDate:
		p, err := r.take(2)
		if err != nil {
			return nil, err
		}
		tm = time.Unix(int64(binary.LittleEndian.Uint16(p))*86400, 0).UTC()
	case binDate32:
		p, err := r.take(4)
		if err != nil {
			return nil, err
		}
		tm = time.Unix(int64(int32(binary.LittleEndian.Uint32(p)))*86400, 0).UTC()
	case binDateTime:
		p, err := r.take(4)
		if err != nil {
			return nil, err
		}
		tm = time.Unix(int64(binary.LittleEndian.Uint32(p)), 0).UTC()
	default:
		p, err := r.take(8)
		if err != nil {
			return nil, err
		}
		ticks := int64(binary.LittleEndian.Uint64(p))
		unit := int64(math.Pow10(t.scale))
		sec, frac := ticks/unit, ticks%unit
		if frac < 0 {
			sec, frac = sec-1, frac+unit
		}
		tm = time.Unix(sec, frac*int64(math.Pow10(9-t.scale))).UTC()
	}
	if !generic {
		return tm, nil
	}
	switch t.code {
	case binDate, binDate32:
		return tm.Format(time.DateOnly), nil
	case binDateTime:
		return tm.In(t.loc).Format(time.DateTime), nil
	}
	layout := time.DateTime
	if t.scale > 0 {
		layout += "." + strings.Repeat("0", t.scale)
	}
	return tm.In(t.loc).Format(layout), nil
}

// tuple decodes a tuple: named ones as objects, others as arrays (the
// connection prints named tuples as JSON objects).
func (r *binReader) tuple(t *binType, generic bool) (any, error) {
	if len(t.names) > 0 {
		out := make(map[string]any, len(t.elems))
		for i, e := range t.elems {
			v, err := r.value(e, generic)
			if err != nil {
				return nil, err
			}
			out[t.names[i]] = v
		}
		return out, nil
	}
	out := make([]any, len(t.elems))
	for i, e := range t.elems {
		v, err := r.value(e, generic)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// object decodes a JSON value: its paths with their values, nested at the
// dots as the engine prints them; paths without a value are left out.
func (r *binReader) object(t *binType) (any, error) {
	n, err := r.length()
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for range n {
		path, err := r.str()
		if err != nil {
			return nil, err
		}
		var v any
		if i := indexOf(t.names, path); i >= 0 {
			if v, err = r.value(t.elems[i], true); err != nil {
				return nil, err
			}
		} else {
			vt, err := r.typeCode()
			if err != nil {
				return nil, err
			}
			if vt.code == binNothing {
				continue
			}
			if v, err = r.value(vt, true); err != nil {
				return nil, err
			}
		}
		setPath(out, path, v)
	}
	return out, nil
}

// setPath stores v at the dotted path in m, making the objects on the way.
func setPath(m map[string]any, path string, v any) {
	for {
		head, rest, nested := strings.Cut(path, ".")
		if !nested {
			m[path] = v
			return
		}
		next, ok := m[head].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[head] = next
		}
		m, path = next, rest
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// typeCode reads a type in the engine's binary type encoding (the type of
// a Dynamic value).
func (r *binReader) typeCode() (*binType, error) {
	c, err := r.byte1()
	if err != nil {
		return nil, err
	}
	if t, ok := plainCodes[c]; ok {
		return t, nil
	}
	switch {
	case c == 0x05 || c == 0x06:
		return &binType{code: binBigUint, size: 16 << (c - 0x05)}, nil
	case c == 0x0B || c == 0x0C:
		return &binType{code: binBigInt, size: 16 << (c - 0x0B)}, nil
	case c >= 0x19 && c <= 0x1C:
		if _, err := r.byte1(); err != nil { // precision
			return nil, err
		}
		s, err := r.byte1()
		return &binType{code: binDecimal, size: 4 << (c - 0x19), scale: int(s)}, err
	}
	switch c {
	case 0x12, 0x13, 0x14:
		t := &binType{code: binDateTime, loc: time.UTC}
		if c >= 0x13 {
			p, err := r.byte1()
			if err != nil || p > 9 {
				return nil, r.fail("bad DateTime64 precision")
			}
			t.code, t.scale = binDateTime64, int(p)
		}
		if c == 0x12 || c == 0x14 {
			zone, err := r.str()
			if err != nil {
				return nil, err
			}
			if t.loc, err = time.LoadLocation(zone); err != nil {
				return nil, r.fail("unknown time zone " + strconv.Quote(zone))
			}
		}
		return t, nil
	case 0x16:
		n, err := r.length()
		return &binType{code: binFixed, size: n}, err
	case 0x17, 0x18:
		return r.enumCode(int(c - 0x16))
	case 0x1E:
		elem, err := r.typeCode()
		return &binType{code: binArray, elem: elem}, err
	case 0x1F, 0x20, 0x2A:
		n, err := r.length()
		if err != nil {
			return nil, err
		}
		t := &binType{code: binTuple}
		if c == 0x2A {
			t.code = binVariant
		}
		for range n {
			if c == 0x20 {
				name, err := r.str()
				if err != nil {
					return nil, err
				}
				t.names = append(t.names, name)
			}
			e, err := r.typeCode()
			if err != nil {
				return nil, err
			}
			t.elems = append(t.elems, e)
		}
		return t, nil
	case 0x23:
		t, err := r.typeCode()
		if err != nil {
			return nil, err
		}
		n := *t // t may be one of plainCodes
		n.nullable = true
		return &n, nil
	case 0x26:
		return r.typeCode()
	case 0x27:
		key, err := r.typeCode()
		if err != nil {
			return nil, err
		}
		elem, err := r.typeCode()
		return &binType{code: binMap, key: key, elem: elem}, err
	case 0x2B:
		_, err := r.byte1() // max types
		return &binType{code: binDynamic}, err
	case 0x30:
		return r.jsonCode()
	}
	return nil, r.fail(fmt.Sprintf("type code 0x%02x is not read here", c))
}

// enumCode reads an Enum's values (size 1: Enum8, 2: Enum16).
func (r *binReader) enumCode(size int) (*binType, error) {
	n, err := r.length()
	if err != nil {
		return nil, err
	}
	t := &binType{code: binEnum, size: size, enum: make(map[int16]string, n)}
	for range n {
		name, err := r.str()
		if err != nil {
			return nil, err
		}
		p, err := r.take(size)
		if err != nil {
			return nil, err
		}
		t.enum[int16(signed(p))] = name
	}
	return t, nil
}

// jsonCode reads a JSON type's parameters; its typed paths go to names and
// elems.
func (r *binReader) jsonCode() (*binType, error) {
	if _, err := r.byte1(); err != nil { // serialization version
		return nil, err
	}
	if _, err := r.uvarint(); err != nil { // max dynamic paths
		return nil, err
	}
	if _, err := r.byte1(); err != nil { // max dynamic types
		return nil, err
	}
	t := &binType{code: binJSON}
	n, err := r.length()
	if err != nil {
		return nil, err
	}
	for range n {
		path, err := r.str()
		if err != nil {
			return nil, err
		}
		e, err := r.typeCode()
		if err != nil {
			return nil, err
		}
		t.names, t.elems = append(t.names, path), append(t.elems, e)
	}
	for range 2 { // paths to skip, path regexps to skip
		n, err := r.length()
		if err != nil {
			return nil, err
		}
		for range n {
			if _, err := r.str(); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

// signed reads a little-endian two's complement integer of 1 to 8 bytes.
func signed(p []byte) int64 {
	switch len(p) {
	case 1:
		return int64(int8(p[0]))
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(p)))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(p)))
	}
	return int64(binary.LittleEndian.Uint64(p))
}

// unsigned reads a little-endian integer of 1 to 8 bytes.
func unsigned(p []byte) uint64 {
	switch len(p) {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(p))
	case 4:
		return uint64(binary.LittleEndian.Uint32(p))
	}
	return binary.LittleEndian.Uint64(p)
}

// bigText prints a little-endian integer of any width in decimal, with
// scale digits after the point and trailing fractional zeros dropped, as
// the engine prints decimals.
func bigText(p []byte, isSigned bool, scale int) string {
	var digits string
	if len(p) <= 8 {
		if isSigned {
			digits = strconv.FormatInt(signed(p), 10)
		} else {
			digits = strconv.FormatUint(unsigned(p), 10)
		}
	} else {
		be := make([]byte, len(p))
		for i, c := range p {
			be[len(p)-1-i] = c
		}
		n := new(big.Int).SetBytes(be)
		if isSigned && p[len(p)-1]&0x80 != 0 {
			n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(p))))
		}
		digits = n.String()
	}
	if scale == 0 {
		return digits
	}
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	whole, frac := digits[:len(digits)-scale], strings.TrimRight(digits[len(digits)-scale:], "0")
	s := whole
	if frac != "" {
		s += "." + frac
	}
	if neg && s != "0" {
		s = "-" + s
	}
	return s
}

// genericNumber reads number text as the text decoder's generic path does.
func genericNumber(s string) any {
	b := []byte(s)
	if n, ok := parseInt(b); ok {
		return n
	}
	if n, ok := parseUint(b); ok {
		return n
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// genericFloat is a float as the text decoder's generic path reads the
// engine's text for it: NaN and infinities are the quoted strings nan, inf
// and -inf, and whole numbers below 1e21 are printed without a point, so
// they read as integers.
func genericFloat(f float64) any {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return strings.ToLower(strings.TrimPrefix(strconv.FormatFloat(f, 'g', -1, 64), "+"))
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		return genericNumber(strconv.FormatFloat(f, 'f', -1, 64))
	}
	return f
}

// keyText is a map key (a generic value) as the engine prints it in a JSON
// object: strings as they are, numbers and booleans as their text.
func keyText(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	return fmt.Sprint(k)
}

// uuidText prints a UUID, which RowBinary holds as two little-endian halves.
func uuidText(p []byte) string {
	var b [16]byte
	for i := range 8 {
		b[i], b[8+i] = p[7-i], p[15-i]
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}
