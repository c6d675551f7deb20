package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// seedProgress reports how far the demo seed is. On a terminal it redraws
// one bar in place (carriage returns); anywhere else (a log file, a pipe,
// journald) it writes a plain line every 10 %, so logs get no frames.
type seedProgress struct {
	w    io.Writer
	tty  bool
	last int // last percentage reported; -1 before the first
}

func newSeedProgress(w io.Writer) *seedProgress {
	return &seedProgress{w: w, tty: isTerminal(w), last: -1}
}

// update reports done of total events stored.
func (p *seedProgress) update(done, total int) {
	pct := done * 100 / max(total, 1)
	step := 10
	if p.tty {
		step = 2
	}
	if pct == p.last || pct%step != 0 {
		return
	}
	p.last = pct
	if p.tty {
		fmt.Fprintf(p.w, "\rseeding demo events [%-50s] %3d%% %d/%d", strings.Repeat("#", pct/2), pct, done, total)
		return
	}
	fmt.Fprintf(p.w, "seeding demo events: %d%% (%d/%d)\n", pct, done, total)
}

// finish ends the bar's line on a terminal.
func (p *seedProgress) finish() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
