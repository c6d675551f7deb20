package nab

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// timeLayout is NAB's timestamp format; windows.json adds microseconds.
const timeLayout = "2006-01-02 15:04:05"

// Corpus is a labelled NAB corpus directory: data/<folder>/<file>.csv,
// windows.json and profiles.json (the layout of ../shared/data/nab).
type Corpus struct {
	Dir      string
	Windows  map[string][]Window // "folder/file.csv" → windows
	Profiles []Profile           // standard, reward_low_FP_rate, reward_low_FN_rate
}

// Series is one data file of a corpus: its name, timestamps and values.
type Series struct {
	Name       string
	Timestamps []time.Time
	Values     []float64
}

// profileOrder is the order profiles are reported in, as in NAB's tables.
var profileOrder = []string{"standard", "reward_low_FP_rate", "reward_low_FN_rate"}

// OpenCorpus reads dir's windows.json and profiles.json.
func OpenCorpus(dir string) (*Corpus, error) {
	c := &Corpus{Dir: dir, Windows: map[string][]Window{}}
	raw, err := os.ReadFile(filepath.Join(dir, "windows.json"))
	if err != nil {
		return nil, fmt.Errorf("nab: %w", err)
	}
	var windows map[string][][2]string
	if err := json.Unmarshal(raw, &windows); err != nil {
		return nil, fmt.Errorf("nab: windows.json: %w", err)
	}
	for name, ws := range windows {
		for _, w := range ws {
			s, err1 := parseTime(w[0])
			e, err2 := parseTime(w[1])
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("nab: windows.json: %s: %w", name, err)
			}
			c.Windows[name] = append(c.Windows[name], Window{Start: s, End: e})
		}
		if c.Windows[name] == nil {
			c.Windows[name] = []Window{}
		}
	}
	raw, err = os.ReadFile(filepath.Join(dir, "profiles.json"))
	if err != nil {
		return nil, fmt.Errorf("nab: %w", err)
	}
	var profiles map[string]struct {
		CostMatrix struct{ TPWeight, FPWeight, FNWeight float64 }
	}
	if err := json.Unmarshal(raw, &profiles); err != nil {
		return nil, fmt.Errorf("nab: profiles.json: %w", err)
	}
	for _, name := range profileOrder {
		p, ok := profiles[name]
		if !ok {
			return nil, fmt.Errorf("nab: profiles.json has no %q profile", name)
		}
		c.Profiles = append(c.Profiles, Profile{Name: name, TP: p.CostMatrix.TPWeight, FP: p.CostMatrix.FPWeight, FN: p.CostMatrix.FNWeight})
	}
	return c, nil
}

// Names are the corpus' files ("folder/file.csv") in sorted order.
func (c *Corpus) Names() []string {
	names := make([]string, 0, len(c.Windows))
	for n := range c.Windows {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Series reads one data file of the corpus.
func (c *Corpus) Series(name string) (Series, error) {
	f, err := os.Open(filepath.Join(c.Dir, "data", filepath.FromSlash(name)))
	if err != nil {
		return Series{}, fmt.Errorf("nab: %w", err)
	}
	defer f.Close()
	ts, cols, err := readColumns(f, name, "value")
	if err != nil {
		return Series{}, err
	}
	return Series{Name: name, Timestamps: ts, Values: cols[0]}, nil
}

// ResultsFiles reads a NAB results directory of one detector
// (results/<detector>/<folder>/<detector>_<file>.csv) for every file of the
// corpus and pairs its anomaly scores with the corpus' windows.
func (c *Corpus) ResultsFiles(detectorDir string) ([]File, error) {
	det := filepath.Base(filepath.Clean(detectorDir))
	var files []File
	for _, name := range c.Names() {
		folder, base := filepath.Split(filepath.FromSlash(name))
		f, err := os.Open(filepath.Join(detectorDir, folder, det+"_"+base))
		if err != nil {
			return nil, fmt.Errorf("nab: %w", err)
		}
		ts, cols, err := readColumns(f, name, "anomaly_score")
		f.Close()
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: name, Timestamps: ts, Scores: cols[0], Windows: c.Windows[name]})
	}
	return files, nil
}

// ScoreAll scores files under every profile of the corpus.
func (c *Corpus) ScoreAll(files []File) ([]Result, error) {
	var out []Result
	for _, p := range c.Profiles {
		r, err := Score(files, p)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// readColumns reads a CSV with a timestamp first column and the named
// float columns.
func readColumns(r io.Reader, name string, want ...string) ([]time.Time, [][]float64, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("nab: %s: header: %w", name, err)
	}
	idx := make([]int, len(want))
	for i, w := range want {
		idx[i] = -1
		for j, h := range head {
			if strings.TrimSpace(h) == w {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, nil, fmt.Errorf("nab: %s: no %q column", name, w)
		}
	}
	var ts []time.Time
	cols := make([][]float64, len(want))
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("nab: %s: %w", name, err)
		}
		t, err := parseTime(rec[0])
		if err != nil {
			return nil, nil, fmt.Errorf("nab: %s line %d: %w", name, line, err)
		}
		ts = append(ts, t)
		for i, j := range idx {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[j]), 64)
			if err != nil {
				return nil, nil, fmt.Errorf("nab: %s line %d: %s: %w", name, line, want[i], err)
			}
			cols[i] = append(cols[i], v)
		}
	}
	return ts, cols, nil
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	return time.Parse(timeLayout, s)
}

// Detect runs one fresh scorer per file of the corpus (newScorer is called
// once a file; the scorer is called once a row, in time order) and returns
// the files ready for Score.
func (c *Corpus) Detect(newScorer func() func(t time.Time, v float64) float64) ([]File, int, error) {
	var files []File
	rows := 0
	for _, name := range c.Names() {
		s, err := c.Series(name)
		if err != nil {
			return nil, 0, err
		}
		score := newScorer()
		out := make([]float64, len(s.Values))
		for i, v := range s.Values {
			out[i] = score(s.Timestamps[i], v)
		}
		rows += len(out)
		files = append(files, File{Name: name, Timestamps: s.Timestamps, Scores: out, Windows: c.Windows[name]})
	}
	return files, rows, nil
}
