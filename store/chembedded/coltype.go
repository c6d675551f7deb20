package chembedded

import (
	"strings"
	"time"
)

// kind is how a column's values are decoded.
type kind uint8

const (
	kindGeneric  kind = iota // JSON, Dynamic, Variant, …: whatever the JSON says
	kindInt                  // Int8…Int64 → int64
	kindUint                 // UInt8…UInt64 → uint64
	kindFloat                // Float32, Float64, BFloat16 → float64
	kindBool                 // Bool → bool
	kindText                 // String, FixedString, UUID, IPs, Enums, Decimals, 128/256-bit ints → string (exact text)
	kindDate                 // Date, Date32 → time.Time (UTC midnight)
	kindDateTime             // DateTime, DateTime64 → time.Time in UTC
	kindArray                // Array(T) → []any
	kindMap                  // Map(K, V) → map[string]any
	kindTuple                // Tuple(…) → []any, or map[string]any for named tuples
)

// colType is a parsed ClickHouse type: enough to decode its JSON form into
// the values store.Assign reads. Nullable and LowCardinality are unwrapped
// (a JSON null is always nil).
type colType struct {
	kind  kind
	loc   *time.Location // kindDateTime: the zone the engine prints the value in
	elem  *colType       // kindArray element, kindMap value
	elems []*colType     // kindTuple elements
	names []string       // kindTuple element names, when named
}

// parseType reads a type name as the engine prints it in the types header,
// e.g. "Map(String, Array(Nullable(DateTime64(3, 'UTC'))))".
func parseType(s string) *colType {
	s = strings.TrimSpace(s)
	name, args := s, ""
	if i := strings.IndexByte(s, '('); i >= 0 && strings.HasSuffix(s, ")") {
		name, args = s[:i], s[i+1:len(s)-1]
	}
	switch name {
	case "Nullable", "LowCardinality", "SimpleAggregateFunction":
		if name == "SimpleAggregateFunction" {
			parts := splitTop(args)
			if len(parts) < 2 {
				return &colType{kind: kindGeneric}
			}
			args = parts[len(parts)-1]
		}
		return parseType(args)
	case "Int8", "Int16", "Int32", "Int64":
		return &colType{kind: kindInt}
	case "UInt8", "UInt16", "UInt32", "UInt64":
		return &colType{kind: kindUint}
	case "Float32", "Float64", "BFloat16":
		return &colType{kind: kindFloat}
	case "Bool":
		return &colType{kind: kindBool}
	case "String", "FixedString", "UUID", "IPv4", "IPv6", "Enum", "Enum8", "Enum16",
		"Decimal", "Decimal32", "Decimal64", "Decimal128", "Decimal256",
		"Int128", "Int256", "UInt128", "UInt256":
		return &colType{kind: kindText}
	case "Date", "Date32":
		return &colType{kind: kindDate}
	case "DateTime", "DateTime64":
		t := &colType{kind: kindDateTime, loc: time.UTC}
		parts := splitTop(args)
		for _, p := range parts {
			if strings.HasPrefix(p, "'") && strings.HasSuffix(p, "'") && len(p) >= 2 {
				zone := strings.ReplaceAll(p[1:len(p)-1], `\/`, "/")
				if loc, err := time.LoadLocation(zone); err == nil {
					t.loc = loc
				}
			}
		}
		return t
	case "Array":
		return &colType{kind: kindArray, elem: parseType(args)}
	case "Map":
		parts := splitTop(args)
		if len(parts) != 2 {
			return &colType{kind: kindGeneric}
		}
		return &colType{kind: kindMap, elem: parseType(parts[1])}
	case "Tuple":
		t := &colType{kind: kindTuple}
		for _, p := range splitTop(args) {
			elemName, typ := splitTupleElem(p)
			t.names = append(t.names, elemName)
			t.elems = append(t.elems, parseType(typ))
		}
		return t
	}
	return &colType{kind: kindGeneric}
}

// splitTop splits a type's arguments at top-level commas.
func splitTop(s string) []string {
	var (
		parts []string
		depth int
		start int
		quote bool
	)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote && c == '\\':
			i++
		case c == '\'':
			quote = !quote
		case quote:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" {
		parts = append(parts, rest)
	}
	return parts
}

// splitTupleElem splits a named tuple element "name Type" (the name may be
// back-quoted); an unnamed element has no top-level space.
func splitTupleElem(p string) (name, typ string) {
	if strings.HasPrefix(p, "`") {
		if end := strings.IndexByte(p[1:], '`'); end >= 0 {
			return p[1 : end+1], strings.TrimSpace(p[end+2:])
		}
	}
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ' ':
			if depth == 0 {
				return p[:i], strings.TrimSpace(p[i+1:])
			}
		}
	}
	return "", p
}
