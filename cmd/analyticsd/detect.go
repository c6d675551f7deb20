package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/anomaly"
	"github.com/learnhub/analytics-service/platform/config"
)

// detectClockBack is the largest step back in time a file may take: a
// daylight-saving fall-back of local timestamps.
const detectClockBack = time.Hour

// detectTimeLayouts are the accepted timestamp forms: NAB's first.
var detectTimeLayouts = []string{"2006-01-02 15:04:05", time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"}

// runDetect is `analyticsd detect [--detector NAME] [--out DIR] FILE.csv…`:
// it scores every row of each `timestamp,value` file with a streaming
// detector and writes `timestamp,value,anomaly_score` rows as it reads, to
// stdout or to DIR/<same base name>. The same anomaly package runs in the
// monitors, so the command is how the benchmarks and reviewers run the models.
func runDetect(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("detector", anomaly.DefaultDetector, "detector name")
	outDir := fs.String("out", "", "directory for one output file per input (default: stdout)")
	if err := fs.Parse(args); err != nil {
		return &config.Error{Setting: "detect flags", Msg: err.Error() + "; use [--detector NAME] [--out DIR] FILE.csv…"}
	}
	if _, err := anomaly.NewDetector(*name); err != nil {
		return &config.Error{Setting: "--detector", Msg: fmt.Sprintf("%q is not a detector; use one of %s", *name, strings.Join(anomaly.DetectorNames(), ", "))}
	}
	files := fs.Args()
	if len(files) == 0 {
		return &config.Error{Setting: "detect", Msg: "no input: name one or more CSV files with a timestamp,value header (\"-\" reads stdin)"}
	}
	if *outDir != "" {
		if st, err := os.Stat(*outDir); err != nil || !st.IsDir() {
			return &config.Error{Setting: "--out", Msg: fmt.Sprintf("%q is not an existing directory", *outDir)}
		}
	}
	for _, file := range files {
		if err := detectFile(file, *name, *outDir, stdout); err != nil {
			return err
		}
	}
	return nil
}

// detectFile scores one input file into its destination.
func detectFile(file, name, outDir string, stdout io.Writer) (err error) {
	in := io.Reader(os.Stdin)
	label := "stdin"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return &config.Error{Setting: file, Msg: "cannot open: " + errors.Unwrap(err).Error()}
		}
		defer f.Close()
		in, label = f, file
	}
	if outDir == "" {
		return detectStream(in, label, name, stdout)
	}
	base := "stdin.csv"
	if file != "-" {
		base = filepath.Base(file)
	}
	dst := filepath.Join(outDir, base)
	if abs, _ := filepath.Abs(file); abs == mustAbs(dst) {
		return &config.Error{Setting: "--out", Msg: fmt.Sprintf("%s would overwrite its own input; choose another directory", dst)}
	}
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	if err := detectStream(in, label, name, out); err != nil {
		out.Close()
		os.Remove(dst) // no half-written result looks like a finished one
		return err
	}
	return out.Close()
}

func mustAbs(p string) string {
	a, _ := filepath.Abs(p)
	return a
}

// detectStream reads `timestamp,value` rows from in and writes each with its
// score as soon as it is read.
func detectStream(in io.Reader, label, name string, out io.Writer) error {
	det, err := anomaly.NewDetector(name)
	if err != nil {
		return err
	}
	cr := csv.NewReader(bufio.NewReader(in))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	bad := func(line int, format string, a ...any) error {
		return &config.Error{Setting: fmt.Sprintf("%s line %d", label, line), Msg: fmt.Sprintf(format, a...)}
	}
	head, err := cr.Read()
	if err == io.EOF {
		return bad(1, "empty file: the first line must be the header timestamp,value")
	}
	if err != nil {
		return bad(1, "%v", csvMsg(err))
	}
	if len(head) < 2 || !strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(head[0], "\ufeff")), "timestamp") ||
		!strings.EqualFold(strings.TrimSpace(head[1]), "value") {
		return bad(1, "header %q: the first two columns must be timestamp,value", strings.Join(head, ","))
	}
	w := bufio.NewWriter(out)
	if _, err := w.WriteString("timestamp,value,anomaly_score\n"); err != nil {
		return err
	}
	var prev time.Time
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return errors.Join(bad(line, "%v", csvMsg(err)), w.Flush())
		}
		if len(rec) < 2 {
			return errors.Join(bad(line, "%d column(s); want timestamp,value", len(rec)), w.Flush())
		}
		ts, tsText := time.Time{}, strings.TrimSpace(rec[0])
		ok := false
		for _, layout := range detectTimeLayouts {
			if ts, err = time.Parse(layout, tsText); err == nil {
				ok = true
				break
			}
		}
		if !ok {
			return errors.Join(bad(line, "timestamp %q: use YYYY-MM-DD HH:MM:SS", tsText), w.Flush())
		}
		valText := strings.TrimSpace(rec[1])
		v, err := strconv.ParseFloat(valText, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.Join(bad(line, "value %q is not a finite number", valText), w.Flush())
		}
		// Local wall-clock stamps repeat an hour when daylight saving ends
		// (NAB's machine_temperature file does): a step back of up to an
		// hour is that, not disorder.
		if ts.Before(prev.Add(-detectClockBack)) {
			return errors.Join(bad(line, "timestamp %s is before the previous row's %s: rows must be in time order",
				tsText, prev.Format(time.DateTime)), w.Flush())
		}
		if ts.After(prev) {
			prev = ts
		}
		d := det.Observe(anomaly.Observation{Time: ts, Value: v})
		w.WriteString(csvField(tsText))
		w.WriteByte(',')
		w.WriteString(valText)
		w.WriteByte(',')
		w.WriteString(strconv.FormatFloat(d.Score, 'f', 6, 64))
		if err := w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return w.Flush()
}

// csvMsg strips encoding/csv's own position prefix (we add the line).
func csvMsg(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// csvField quotes s when CSV needs it.
func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}
