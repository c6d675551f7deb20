package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCLI runs analyticsd in-process with args and returns its exit code,
// stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, func(string) string { return "" }, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.csv")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

// dailyCSV is two series of ten days of a daily cycle, integer steps.
func dailyCSV() string {
	var b strings.Builder
	b.WriteString("unique_id,ds,y\n")
	for _, id := range []string{"b", "a"} { // not sorted: output keeps input order
		for i := range 240 {
			y := 50 + 10*math.Sin(2*math.Pi*float64(i)/24) + float64(i%7)*0.1
			fmt.Fprintf(&b, "%s,%d,%.3f\n", id, i, y)
		}
	}
	return b.String()
}

// TestForecastCommand: every series gets steps 1…H with nested intervals,
// in input order, under the documented header.
func TestForecastCommand(t *testing.T) {
	path := writeFile(t, dailyCSV())
	code, out, stderr := runCLI(t, "forecast", "--horizon", "30", "--season", "24", path)
	require.Equal(t, exitOK, code, stderr)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+2*30)
	assert.Equal(t, []string{"unique_id", "step", "forecast", "lo80", "hi80", "lo95", "hi95"}, rows[0])
	for i, row := range rows[1:] {
		wantID := "b"
		if i >= 30 {
			wantID = "a"
		}
		assert.Equal(t, wantID, row[0])
		assert.Equal(t, strconv.Itoa(i%30+1), row[1])
		v := make([]float64, 5)
		for j := range v {
			v[j], err = strconv.ParseFloat(row[2+j], 64)
			require.NoError(t, err)
		}
		f, lo80, hi80, lo95, hi95 := v[0], v[1], v[2], v[3], v[4]
		assert.True(t, lo95 <= lo80 && lo80 <= f && f <= hi80 && hi80 <= hi95, "row %v", row)
		// The daily cycle continues: within 1.5 of the noise-free pattern.
		step := 240 + i%30
		assert.InDelta(t, 50+10*math.Sin(2*math.Pi*float64(step)/24), f, 1.5, "row %v", row)
	}
}

// TestForecastCommandTimestampsAndLevels: hourly timestamps give the
// hourly seasons (seasonal naive repeats the last day); --level sets the
// interval columns.
func TestForecastCommandTimestampsAndLevels(t *testing.T) {
	var b strings.Builder
	b.WriteString("unique_id,ds,y\n")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var last []float64
	for i := range 72 {
		y := float64(i%24) + float64(i/24)
		fmt.Fprintf(&b, "s,%s,%g\n", start.Add(time.Duration(i)*time.Hour).Format("2006-01-02 15:04:05"), y)
		if i >= 48 {
			last = append(last, y)
		}
	}
	code, out, stderr := runCLI(t, "forecast", "--horizon", "24", "--model", "snaive", "--level", "50,90", writeFile(t, b.String()))
	require.Equal(t, exitOK, code, stderr)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"unique_id", "step", "forecast", "lo50", "hi50", "lo90", "hi90"}, rows[0])
	for k, row := range rows[1:] {
		f, err := strconv.ParseFloat(row[2], 64)
		require.NoError(t, err)
		assert.Equal(t, last[k], f, "step %d repeats the same hour of the last day", k+1)
	}
}

// TestForecastCommandErrors: bad input exits 2 and says where and what.
func TestForecastCommandErrors(t *testing.T) {
	good := writeFile(t, dailyCSV())
	short := writeFile(t, "unique_id,ds,y\nok,0,1\nok,1,2\nok,2,3\nok,3,4\nok,4,5\nok,5,6\nok,6,7\nok,7,8\nok,8,9\nok,9,10\nok,10,11\nx,0,1\nx,1,2\n")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"bad header", []string{"--horizon", "5", writeFile(t, "id,ds,value\na,0,1\n")}, []string{"line 1", "unique_id,ds,y"}},
		{"unparsable value", []string{"--horizon", "5", writeFile(t, "unique_id,ds,y\na,0,1\na,1,one\n")}, []string{"line 3", `"one"`}},
		{"unsorted time", []string{"--horizon", "5", writeFile(t, "unique_id,ds,y\na,0,1\na,1,1\na,1,1\n")}, []string{"line 4", "increasing time order"}},
		{"horizon over 1000", []string{"--horizon", "1001", good}, []string{"--horizon", "1…1000"}},
		{"no horizon", []string{good}, []string{"--horizon"}},
		{"unknown model", []string{"--horizon", "5", "--model", "lstm", good}, []string{"--model", "ensemble"}},
		{"bad level", []string{"--horizon", "5", "--level", "80,120", good}, []string{"--level", "120"}},
		{"bad season", []string{"--horizon", "5", "--season", "1", good}, []string{"--season"}},
		{"two files", []string{"--horizon", "5", good, good}, []string{"exactly one input file"}},
		{"missing file", []string{"--horizon", "5", filepath.Join(t.TempDir(), "nope.csv")}, []string{"nope.csv", "cannot open"}},
		{"series too short", []string{"--horizon", "5", "--model", "ets", short}, []string{`series "x" (from line 13)`, "needs at least 10 points", "got 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, append([]string{"forecast"}, tc.args...)...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Empty(t, out)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
		})
	}
}
