package journeys_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

// t0 is the start of the property tests' time range.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// learningTypes are the event types random event sets draw from.
var learningTypes = []string{"course.enrolled", "lesson.started", "lesson.completed", "quiz.submitted", "user.login"}

// setup opens a migrated embedded engine and a Service whose clock is now.
func setup(t *testing.T, now time.Time) (*store.DB, *journeys.Service) {
	t.Helper()
	db := storetest.Embedded(t)
	_, err := store.Migrate(context.Background(), db, store.MigrateOptions{})
	require.NoError(t, err)
	return db, journeys.NewService(db, journeys.Config{Now: func() time.Time { return now }})
}

// insert stores evs for tenant.
func insert(t *testing.T, db *store.DB, tenant string, evs []journeys.Event) {
	t.Helper()
	rows := make([][]any, len(evs))
	for i, e := range evs {
		props := map[string]any{}
		for k, v := range e.Props {
			props[k] = v
		}
		rows[i] = []any{tenant, fmt.Sprintf("%s-%d-%d", tenant, i, rand.Int64()), e.Type, e.User, e.Session, e.At, e.At, props}
	}
	require.NoError(t, db.Insert(context.Background(), store.Insert{Table: "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}, Rows: rows}))
}

// randomEvents makes a small event set full of ties: users × up to
// perUser events on a coarse grid of minutes from start (some before it),
// so equal timestamps, repeats and re-entries are common.
func randomEvents(rng *rand.Rand, users, perUser int, start time.Time, grid time.Duration, slots int) []journeys.Event {
	var out []journeys.Event
	for u := range users {
		for range 1 + rng.IntN(perUser) {
			e := journeys.Event{
				User:  fmt.Sprintf("u%02d", u),
				Type:  learningTypes[rng.IntN(len(learningTypes))],
				At:    start.Add(time.Duration(rng.IntN(slots)-2) * grid),
				Props: map[string]string{"course": fmt.Sprintf("c%d", 1+rng.IntN(3))},
			}
			if rng.IntN(4) == 0 {
				delete(e.Props, "course")
			}
			if rng.IntN(2) == 0 {
				e.Props["score"] = fmt.Sprint(rng.IntN(100))
			}
			out = append(out, e)
		}
	}
	// One event of every type far outside the range, so every type is known.
	for _, typ := range learningTypes {
		out = append(out, journeys.Event{User: "ghost", Type: typ, At: start.Add(-100 * 24 * time.Hour)})
	}
	return out
}
