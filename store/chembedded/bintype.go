package chembedded

import (
	"strconv"
	"strings"
	"time"
)

// binCode is how a RowBinary value is laid out and what it becomes.
type binCode uint8

const (
	binNothing    binCode = iota // Nothing: only ever NULL
	binInt                       // Int8…Int64, size bytes
	binUint                      // UInt8…UInt64, size bytes
	binBigInt                    // Int128, Int256, size bytes
	binBigUint                   // UInt128, UInt256, size bytes
	binFloat32                   // Float32
	binFloat64                   // Float64
	binBool                      // Bool
	binString                    // String
	binFixed                     // FixedString(size)
	binUUID                      // UUID
	binIPv4                      // IPv4
	binEnum                      // Enum8 (size 1), Enum16 (size 2)
	binDecimal                   // Decimal*, size bytes, scale digits
	binDate                      // Date (days, UInt16)
	binDate32                    // Date32 (days, Int32)
	binDateTime                  // DateTime (seconds, UInt32)
	binDateTime64                // DateTime64(scale) (ticks, Int64)
	binArray                     // Array(elem)
	binMap                       // Map(key, elem)
	binTuple                     // Tuple(elems…), names when named
	binVariant                   // Variant(elems…)
	binJSON                      // JSON without typed paths
	binDynamic                   // Dynamic
)

// binType is a ClickHouse type as RowBinaryWithNamesAndTypes lays out its
// values: enough to decode them into what the text decoder (decode.go)
// produces for the same value, so the format is invisible to callers.
type binType struct {
	code     binCode
	nullable bool
	size     int              // integer and decimal width in bytes; FixedString length
	scale    int              // Decimal scale; DateTime64 precision
	loc      *time.Location   // DateTime, DateTime64: the zone their text is printed in
	enum     map[int16]string // Enum values → names
	elem     *binType         // Array element, Map value
	key      *binType         // Map key
	elems    []*binType       // Tuple elements, Variant alternatives
	names    []string         // Tuple element names when named
}

// parseBinType reads a type name as the engine prints it in the header. It
// reports false for a type the binary decoder does not read (AggregateFunction,
// Interval, geo types, JSON with typed paths, IPv6, BFloat16, Time, …); the
// query then runs again in the text format.
func parseBinType(s string) (*binType, bool) {
	s = strings.TrimSpace(s)
	name, args := s, ""
	if i := strings.IndexByte(s, '('); i >= 0 && strings.HasSuffix(s, ")") {
		name, args = s[:i], s[i+1:len(s)-1]
	}
	switch name {
	case "Nullable":
		t, ok := parseBinType(args)
		if !ok || t.nullable {
			return nil, false
		}
		t.nullable = true
		return t, true
	case "LowCardinality":
		return parseBinType(args)
	case "SimpleAggregateFunction":
		parts := splitTop(args)
		if len(parts) < 2 {
			return nil, false
		}
		return parseBinType(parts[len(parts)-1])
	case "Int8", "Int16", "Int32", "Int64":
		n, _ := strconv.Atoi(name[3:])
		return &binType{code: binInt, size: n / 8}, true
	case "UInt8", "UInt16", "UInt32", "UInt64":
		n, _ := strconv.Atoi(name[4:])
		return &binType{code: binUint, size: n / 8}, true
	case "Int128", "Int256":
		n, _ := strconv.Atoi(name[3:])
		return &binType{code: binBigInt, size: n / 8}, true
	case "UInt128", "UInt256":
		n, _ := strconv.Atoi(name[4:])
		return &binType{code: binBigUint, size: n / 8}, true
	case "Float32":
		return &binType{code: binFloat32}, true
	case "Float64":
		return &binType{code: binFloat64}, true
	case "Bool":
		return &binType{code: binBool}, true
	case "String":
		return &binType{code: binString}, true
	case "FixedString":
		n, err := strconv.Atoi(strings.TrimSpace(args))
		if err != nil || n <= 0 {
			return nil, false
		}
		return &binType{code: binFixed, size: n}, true
	case "UUID":
		return &binType{code: binUUID}, true
	case "IPv4":
		return &binType{code: binIPv4}, true
	case "Enum8", "Enum16":
		size := 1
		if name == "Enum16" {
			size = 2
		}
		return parseEnum(args, size)
	case "Decimal", "Decimal32", "Decimal64", "Decimal128", "Decimal256":
		return parseDecimal(name, args)
	case "Date":
		return &binType{code: binDate}, true
	case "Date32":
		return &binType{code: binDate32}, true
	case "DateTime", "DateTime64":
		t := &binType{code: binDateTime, loc: time.UTC}
		parts := splitTop(args)
		if name == "DateTime64" {
			if len(parts) == 0 {
				return nil, false
			}
			p, err := strconv.Atoi(parts[0])
			if err != nil || p < 0 || p > 9 {
				return nil, false
			}
			t.code, t.scale, parts = binDateTime64, p, parts[1:]
		}
		for _, p := range parts {
			if len(p) < 2 || p[0] != '\'' || p[len(p)-1] != '\'' {
				return nil, false
			}
			loc, err := time.LoadLocation(strings.ReplaceAll(p[1:len(p)-1], `\/`, "/"))
			if err != nil {
				return nil, false
			}
			t.loc = loc
		}
		return t, true
	case "Array":
		elem, ok := parseBinType(args)
		return &binType{code: binArray, elem: elem}, ok
	case "Map":
		parts := splitTop(args)
		if len(parts) != 2 {
			return nil, false
		}
		key, ok1 := parseBinType(parts[0])
		elem, ok2 := parseBinType(parts[1])
		return &binType{code: binMap, key: key, elem: elem}, ok1 && ok2
	case "Tuple":
		t := &binType{code: binTuple}
		named := false
		for i, p := range splitTop(args) {
			elemName, typ := splitTupleElem(p)
			if i == 0 {
				named = elemName != ""
			}
			if named != (elemName != "") {
				return nil, false
			}
			e, ok := parseBinType(typ)
			if !ok {
				return nil, false
			}
			t.elems = append(t.elems, e)
			if named {
				t.names = append(t.names, elemName)
			}
		}
		return t, true
	case "Variant":
		t := &binType{code: binVariant}
		for _, p := range splitTop(args) {
			e, ok := parseBinType(p)
			if !ok {
				return nil, false
			}
			t.elems = append(t.elems, e)
		}
		return t, true
	case "JSON":
		// Only dynamic paths: typed paths are laid out by their own types,
		// which the header's type text would have to be parsed for.
		for _, p := range splitTop(args) {
			if !strings.HasPrefix(p, "max_dynamic_paths") && !strings.HasPrefix(p, "max_dynamic_types") {
				return nil, false
			}
		}
		return &binType{code: binJSON}, true
	case "Dynamic":
		return &binType{code: binDynamic}, true
	case "Nothing":
		return &binType{code: binNothing}, true
	}
	return nil, false
}

// parseEnum reads Enum arguments ('name' = value, …). Names with escapes
// are left to the text format.
func parseEnum(args string, size int) (*binType, bool) {
	t := &binType{code: binEnum, size: size, enum: map[int16]string{}}
	for _, p := range splitTop(args) {
		eq := strings.LastIndexByte(p, '=')
		if eq < 0 {
			return nil, false
		}
		quoted := strings.TrimSpace(p[:eq])
		if len(quoted) < 2 || quoted[0] != '\'' || quoted[len(quoted)-1] != '\'' || strings.ContainsRune(quoted, '\\') {
			return nil, false
		}
		v, err := strconv.ParseInt(strings.TrimSpace(p[eq+1:]), 10, 16)
		if err != nil {
			return nil, false
		}
		t.enum[int16(v)] = quoted[1 : len(quoted)-1]
	}
	return t, true
}

// parseDecimal reads Decimal(P, S) and DecimalN(S).
func parseDecimal(name, args string) (*binType, bool) {
	parts := splitTop(args)
	var prec, scale int
	var err1, err2 error
	switch {
	case name == "Decimal" && len(parts) == 2:
		prec, err1 = strconv.Atoi(parts[0])
		scale, err2 = strconv.Atoi(parts[1])
	case name != "Decimal" && len(parts) == 1:
		prec = map[string]int{"Decimal32": 9, "Decimal64": 18, "Decimal128": 38, "Decimal256": 76}[name]
		scale, err1 = strconv.Atoi(parts[0])
	default:
		return nil, false
	}
	if err1 != nil || err2 != nil || prec < 1 || prec > 76 || scale < 0 || scale > prec {
		return nil, false
	}
	return &binType{code: binDecimal, size: decimalSize(prec), scale: scale}, true
}

// decimalSize is the width of a decimal of prec digits.
func decimalSize(prec int) int {
	switch {
	case prec <= 9:
		return 4
	case prec <= 18:
		return 8
	case prec <= 38:
		return 16
	}
	return 32
}
