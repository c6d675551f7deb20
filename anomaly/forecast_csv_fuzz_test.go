package anomaly

import (
	"errors"
	"strings"
	"testing"
)

// FuzzReadLong: any input either reads into well-formed series (time
// increasing, one value per time) or fails with a line-numbered error.
func FuzzReadLong(f *testing.F) {
	f.Add("unique_id,ds,y\na,0,1\na,1,2\n")
	f.Add("unique_id,ds,y\nb,2026-01-01 00:00:00,5\nb,2026-01-01 01:00:00,6\n")
	f.Add("unique_id,ds,y\na,1,1\na,0,1\n")
	f.Add("id,ds\n\"a")
	f.Fuzz(func(t *testing.T, in string) {
		series, err := ReadLong(strings.NewReader(in))
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for _, s := range series {
			if n := max(len(s.Steps), len(s.Times)); n != len(s.Y) || n == 0 {
				t.Fatalf("series %q: %d times for %d values", s.ID, n, len(s.Y))
			}
			for i := 1; i < len(s.Steps); i++ {
				if s.Steps[i] <= s.Steps[i-1] {
					t.Fatalf("series %q: steps not increasing", s.ID)
				}
			}
			for i := 1; i < len(s.Times); i++ {
				if !s.Times[i].After(s.Times[i-1]) {
					t.Fatalf("series %q: times not increasing", s.ID)
				}
			}
		}
	})
}
