package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sharedNABFile finds a file of ../shared/data/nab (NAB_DATA_DIR overrides).
func sharedNABFile(t *testing.T, name string) string {
	t.Helper()
	if d := os.Getenv("NAB_DATA_DIR"); d != "" {
		return filepath.Join(d, "data", name)
	}
	for dir, _ := os.Getwd(); dir != "/"; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "..", "shared", "data", "nab", "data", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("shared data file %s not found: set NAB_DATA_DIR to ../shared/data/nab", name)
	return ""
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, func(string) string { return "" }, &out, &errOut)
	return code, out.String(), errOut.String()
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	require.NoError(t, err)
	return rows
}

// End to end on a shared NAB file (it has a daylight-saving step back): one
// output row per input row, the input echoed, scores in [0, 1], the same
// bytes on a second run, and the same bytes through --out.
func TestDetectSharedFile(t *testing.T) {
	in := sharedNABFile(t, "realKnownCause/machine_temperature_system_failure.csv")
	raw, err := os.ReadFile(in)
	require.NoError(t, err)
	input := readCSV(t, string(raw))

	code, stdout, stderr := runCmd(t, "detect", in)
	require.Equal(t, exitOK, code, stderr)
	rows := readCSV(t, stdout)
	require.Len(t, rows, len(input))
	assert.Equal(t, []string{"timestamp", "value", "anomaly_score"}, rows[0])
	high := 0
	for i := 1; i < len(rows); i++ {
		require.Equal(t, input[i], rows[i][:2], "row %d", i)
		s, err := strconv.ParseFloat(rows[i][2], 64)
		require.NoError(t, err)
		require.True(t, s >= 0 && s <= 1, "row %d score %v", i, s)
		if s > 0.5 {
			high++
		}
	}
	assert.Positive(t, high, "the file's known failures must raise some score above 0.5")
	assert.Less(t, high, len(rows)/100, "alarms must be rare")

	_, again, _ := runCmd(t, "detect", "--detector", "ensemble", in)
	assert.Equal(t, stdout, again, "detection is deterministic")

	dir := t.TempDir()
	code, stdout2, stderr := runCmd(t, "detect", "--out", dir, in)
	require.Equal(t, exitOK, code, stderr)
	assert.Empty(t, stdout2)
	written, err := os.ReadFile(filepath.Join(dir, filepath.Base(in)))
	require.NoError(t, err)
	assert.Equal(t, stdout, string(written))
}

func TestDetectEveryDetectorRuns(t *testing.T) {
	in := sharedNABFile(t, "realTraffic/speed_7578.csv")
	for _, name := range []string{"seasonal", "ar", "bocpd", "context", "prophet", "ensemble"} {
		code, stdout, stderr := runCmd(t, "detect", "--detector", name, in)
		require.Equal(t, exitOK, code, name+": "+stderr)
		assert.Len(t, readCSV(t, stdout), 1128, name)
	}
}

func TestDetectErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	good := "timestamp,value\n2024-01-01 00:00:00,1\n"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad header", []string{write("h.csv", "time,val\n2024-01-01 00:00:00,1\n")}, `h.csv line 1: header "time,val": the first two columns must be timestamp,value`},
		{"empty file", []string{write("e.csv", "")}, "e.csv line 1: empty file"},
		{"bad value", []string{write("v.csv", good+"2024-01-01 00:05:00,12,5\n2024-01-01 00:10:00,abc\n")}, `v.csv line 4: value "abc" is not a finite number`},
		{"NaN value", []string{write("n.csv", good+"2024-01-01 00:05:00,NaN\n")}, `n.csv line 3: value "NaN" is not a finite number`},
		{"bad timestamp", []string{write("t.csv", good+"01/02/2024 10:00,3\n")}, `t.csv line 3: timestamp "01/02/2024 10:00": use YYYY-MM-DD HH:MM:SS`},
		{"unsorted", []string{write("u.csv", good+"2024-01-01 03:00:00,2\n2024-01-01 01:30:00,3\n")}, "u.csv line 4: timestamp 2024-01-01 01:30:00 is before the previous row's 2024-01-01 03:00:00"},
		{"one column", []string{write("c.csv", good+"2024-01-01 00:05:00\n")}, "c.csv line 3: 1 column(s); want timestamp,value"},
		{"unknown detector", []string{"--detector", "nope", write("g.csv", good)}, `--detector: "nope" is not a detector; use one of ar, bocpd, context, counts, countshift, ensemble, prophet, seasonal`},
		{"no files", nil, "detect: no input"},
		{"missing file", []string{filepath.Join(dir, "absent.csv")}, "absent.csv: cannot open: no such file or directory"},
		{"out not a dir", []string{"--out", filepath.Join(dir, "nodir"), write("o.csv", good)}, "--out: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, append([]string{"detect"}, tc.args...)...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tc.want)
		})
	}

	t.Run("no partial output file", func(t *testing.T) {
		out := t.TempDir()
		in := write("partial.csv", good+"2024-01-01 00:05:00,x\n")
		code, _, _ := runCmd(t, "detect", "--out", out, in)
		assert.Equal(t, exitUsage, code)
		assert.NoFileExists(t, filepath.Join(out, "partial.csv"))
	})
}
