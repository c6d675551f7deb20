package sqlparse

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParsePrint checks that any input either fails to parse cleanly or
// prints to a fixed point: parse → print → parse → print gives the same
// text, and nothing panics or overflows the stack.
func FuzzParsePrint(f *testing.F) {
	for _, corpus := range []string{"legit.sql", "escapes.sql"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", corpus))
		if err != nil {
			f.Fatalf("seed corpus: %v", err)
		}
		for _, part := range strings.Split(string(data), "-- case: ") {
			if len(part) < 64<<10 {
				f.Add(part)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src, Limits{})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("parse error is %T, want *Error", err)
			}
			return
		}
		p1, err := Format(q)
		if err != nil {
			return // a construct the printer refuses (GLOBAL JOIN, FINAL on a subquery …)
		}
		q2, err := Parse(p1, Limits{MaxBytes: 1 << 20, MaxTokens: 1 << 20, MaxDepth: 4 * DefaultMaxDepth})
		if err != nil {
			t.Fatalf("printed query does not parse: %v\ninput: %q\nprinted: %s", err, src, p1)
		}
		p2, err := Format(q2)
		if err != nil {
			t.Fatalf("reprint failed: %v\nprinted: %s", err, p1)
		}
		if p1 != p2 {
			t.Fatalf("print is not a fixed point\ninput: %q\nfirst:  %s\nsecond: %s", src, p1, p2)
		}
	})
}
