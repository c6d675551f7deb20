package exports

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

// TestEventWindows: a windowed events export yields exactly the rows, in
// the order, of the single query, and another tenant's rows stay out.
func TestEventWindows(t *testing.T) {
	ctx := context.Background()
	db := storetest.Embedded(t)
	_, err := store.Migrate(ctx, db, store.MigrateOptions{})
	require.NoError(t, err)
	from := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, tenant := range []string{"t1", "t2"} {
		// several events per millisecond, so ties on occurred_at are ordered by event_id
		require.NoError(t, db.Exec(ctx, `INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
			SELECT ?, concat('e-', toString(number)), ['a', 'b'][number % 2 + 1], 'u', 's',
			       toDateTime64(?, 3, 'UTC') + toIntervalMillisecond(intDiv(number, 3) * 1000), toDateTime64(?, 3, 'UTC'), '{"n":1}'
			FROM numbers(5000)`, tenant, from, from))
	}
	scope, err := store.DangerousScopeForTenant("t1")
	require.NoError(t, err)
	s := &Service{deps: Deps{DB: db}}
	read := func(ev EventsSource, per int) ([]store.Column, [][]any) {
		t.Helper()
		st, err := s.queryEvents(ctx, scope, &ev, per)
		require.NoError(t, err)
		return drain(t, st)
	}
	cases := []EventsSource{
		{From: from, To: from.Add(time.Hour)},
		{From: from.Add(10 * time.Minute), To: from.Add(20 * time.Minute), Types: []string{"b"}, Columns: []string{"event_id", "occurred_at"}},
		{From: from.Add(-time.Hour), To: from}, // empty
	}
	for i, ev := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			windows, err := s.eventWindows(ctx, scope, &ev, 400)
			require.NoError(t, err)
			wantCols, want := read(ev, 1_000_000)
			gotCols, got := read(ev, 400)
			assert.Equal(t, wantCols, gotCols)
			assert.Equal(t, want, got)
			if len(want) > 800 {
				assert.Greater(t, len(windows), 2, "a large export is cut into windows")
			}
			for _, row := range got {
				id, _ := row[0].(string)
				assert.Regexp(t, `^e-\d+$`, id)
			}
			if i == 0 {
				assert.Len(t, got, 5000, "t1's rows only")
			}
		})
	}
}
