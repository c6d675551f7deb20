package chembedded

import (
	"testing"
)

// FuzzBinaryRow feeds arbitrary bytes to the RowBinary decoder, as a
// header and as rows of types that read nested and self-described values:
// it may reject them but must never panic.
func FuzzBinaryRow(f *testing.F) {
	for _, s := range []string{
		"\x01\x01a\x06String\x01x",
		"\x02\x03\x01a\x15\x01x\x01\x00\x00\x00\x00\x00\x00\x00",   // JSON: path a String "x"; Dynamic Nothing
		"\x01\x1e\x0a\x02\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00", // Dynamic Array(Int64)
		"\x01\x03a.b\x30\x00\x80\x02\x10\x00\x00\x00\x01\x01x\x0e\x00\x00\x00\x00\x00\x00\xf0\x3f",
		"\x05\x01\x02\x03",
	} {
		f.Add([]byte(s))
	}
	var types []*binType
	for _, s := range []string{"JSON", "Dynamic", "Nullable(DateTime64(9, 'Asia/Tokyo'))", "Map(String, Array(Nullable(Decimal(40, 5))))",
		"Tuple(a Enum8('x' = 1), b UUID)", "Variant(String, UInt64)", "Int256", "FixedString(3)"} {
		t, ok := parseBinType(s)
		if !ok {
			f.Fatalf("%s is not read", s)
		}
		types = append(types, t)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := binReader{b: b}
		_, _ = r.header()
		for _, typ := range types {
			r := binReader{b: b}
			_ = r.row([]*binType{typ, typ}, make([]any, 2))
		}
	})
}
