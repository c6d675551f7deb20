package exports

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// An events export is sorted by time, and the engine sorts in memory: one
// query over a large window holds every row of it at once (about 165 MB per
// million events with the settings below, growing without bound with the
// export). So a window of more than windowRows events is cut at time
// boundaries into windows of about windowRows events (approximate quantiles
// of occurred_at), read one after another; their concatenation is in the
// same order. Each window is its own query, so rows inserted while the
// export runs may show in a later window but not an earlier one, and FINAL
// collapses duplicates within a window: two versions of one event (same
// sorting key) with different occurred_at on both sides of a cut would both
// be exported.
const (
	windowRows = 200_000
	// windowMax bounds the number of windows (and of boundaries asked for).
	windowMax = 1000
)

// eventsSettings are the engine settings of an events export's queries:
// one thread and small blocks keep the engine's memory for reading and
// sorting a window to about half of the defaults, at no cost to the
// export, whose encoder is slower than the engine anyway.
func eventsSettings() store.Settings {
	return store.Settings{"max_threads": 1, "max_block_size": 8192}
}

// window is a time range [from, to).
type window struct{ from, to time.Time }

// eventsStream reads an events export window by window.
type eventsStream struct {
	query   func(window) (rowStream, error) // starts one window's query
	windows []window                        // those not started yet
	cur     rowStream
	cols    []store.Column
	err     error
}

// queryEvents starts reading the events of ev, windowed when there are
// more than per of them.
func (s *Service) queryEvents(ctx context.Context, scope store.Scope, ev *EventsSource, per int) (rowStream, error) {
	ctx = store.WithSettings(ctx, eventsSettings())
	windows, err := s.eventWindows(ctx, scope, ev, per)
	if err != nil {
		return nil, err
	}
	query := func(w window) (rowStream, error) {
		part := *ev
		part.From, part.To = w.from, w.to
		sql, args := eventsSQL(scope, &part)
		return s.query(ctx, sql, args)
	}
	st := &eventsStream{query: query, windows: windows}
	// The columns come from the first window the engine answers with a
	// header; windows before it are empty.
	for st.cols == nil && len(st.windows) > 0 {
		if err := st.open(); err != nil {
			return nil, err
		}
		if st.cols == nil {
			_ = st.Close()
		}
	}
	return st, nil
}

// eventWindows cuts ev's range into windows of about per events.
func (s *Service) eventWindows(ctx context.Context, scope store.Scope, ev *EventsSource, per int) ([]window, error) {
	all := []window{{ev.From, ev.To}}
	where, args := eventsWhere(scope, ev)
	var n uint64
	if err := s.deps.DB.QueryRow(ctx, []any{&n}, "SELECT count() FROM "+store.QuoteIdent("events")+" WHERE "+where, args...); err != nil {
		return nil, err
	}
	k := min(int((n+uint64(per)-1)/uint64(per)), windowMax)
	if k <= 1 {
		return all, nil
	}
	levels := make([]string, k-1)
	for i := range levels {
		levels[i] = strconv.FormatFloat(float64(i+1)/float64(k), 'f', -1, 64)
	}
	var cuts any
	// The levels are numbers made here; quantiles takes them as literals.
	if err := s.deps.DB.QueryRow(ctx, []any{&cuts}, "SELECT quantiles("+strings.Join(levels, ", ")+")(occurred_at) FROM "+
		store.QuoteIdent("events")+" WHERE "+where, args...); err != nil {
		return nil, err
	}
	list, _ := cuts.([]any)
	var out []window
	from := ev.From
	for _, v := range list {
		if c, ok := v.(time.Time); ok && c.After(from) && c.Before(ev.To) {
			out = append(out, window{from, c})
			from = c
		}
	}
	return append(out, window{from, ev.To}), nil
}

// open starts the next window's query.
func (st *eventsStream) open() error {
	w := st.windows[0]
	st.windows = st.windows[1:]
	cur, err := st.query(w)
	if err != nil {
		return err
	}
	st.cur = cur
	if st.cols == nil {
		st.cols = cur.Columns()
	}
	return nil
}

func (st *eventsStream) Columns() []store.Column { return st.cols }

func (st *eventsStream) Next() bool {
	for st.err == nil && st.cur != nil {
		if st.cur.Next() {
			return true
		}
		st.err = st.cur.Err()
		_ = st.cur.Close()
		st.cur = nil
		if st.err == nil && len(st.windows) > 0 {
			st.err = st.open()
		}
	}
	return false
}

func (st *eventsStream) Values() []any { return st.cur.Values() }

func (st *eventsStream) Err() error { return st.err }

func (st *eventsStream) Close() error {
	if st.cur != nil {
		err := st.cur.Close()
		st.cur = nil
		return err
	}
	return nil
}
