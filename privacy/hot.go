package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// dayLayout formats a UTC day in rollup_days.
const dayLayout = "2006-01-02"

// hotTarget is one table the hot step deletes from: the condition (after
// the tenant guard) that selects the user's rows, and its arguments.
type hotTarget struct {
	table string
	cond  string
	args  []any
	final bool // count with FINAL (a ReplacingMergeTree read as the product reads it)
}

// targets are the user's rows in each per-user table; cohort_users only
// when the table exists (migration 0007 adds it).
func (s *Service) targets(ctx context.Context, userID string) ([]hotTarget, error) {
	needle, _ := json.Marshal(userID) // the id as a JSON string, quotes included
	out := []hotTarget{
		{table: eventsTable, cond: "user_id = ?", args: []any{userID}, final: true},
		// A refused envelope is raw bytes: match its user_id field, or the
		// id as any JSON string value in it (an envelope too broken to parse).
		{table: deadLettersTable, cond: "(JSONExtractString(payload, 'user_id') = ? OR position(payload, ?) > 0)", args: []any{userID, string(needle)}},
	}
	exists, err := tableExists(ctx, s.db, cohortUsersTable)
	if err != nil {
		return nil, err
	}
	if exists {
		out = append(out, hotTarget{table: cohortUsersTable, cond: "user_id = ?", args: []any{userID}})
	}
	return out, nil
}

// eraseHot deletes the user's rows from the hot tier, rebuilds the rollup
// days they were in, and verifies nothing of the user is left. Counts and
// days are recorded (StepHotStarted) before anything is deleted, so a run
// that resumes after a crash still reports and rebuilds them.
//
// Deletes are ALTER TABLE … DELETE mutations run with mutations_sync = 2,
// not lightweight DELETE FROM: a lightweight delete only masks rows, whose
// bytes stay on disk until a merge that may never come for a closed month,
// while a mutation rewrites the affected parts without them — erasure must
// remove the data, not hide it. mutations_sync = 2 returns only once the
// mutation is applied (on every replica of a cluster), so the count that
// follows sees the result.
func (s *Service) eraseHot(ctx context.Context, scope store.Scope, userID string, st *Status) error {
	const op = "privacy.eraseHot"
	if s.cfg.Rollups == nil {
		return errs.E(op, errs.KindInternal, "privacy.Config.Rollups is not set: the erased user's rollup days could not be rebuilt")
	}
	targets, err := s.targets(ctx, userID)
	if err != nil {
		return err
	}
	if st.Step < StepHotStarted {
		counts := make([]uint64, len(targets))
		for i, t := range targets {
			if counts[i], err = s.countUser(ctx, scope, t); err != nil {
				return err
			}
		}
		st.Hot = HotCounts{Events: counts[0], DeadLetters: counts[1]}
		if len(counts) > 2 {
			st.Hot.CohortUsers = counts[2]
		}
		if st.RollupDays, err = s.userDays(ctx, scope, userID); err != nil {
			return err
		}
		st.Hot.RollupDays = uint64(len(st.RollupDays))
		st.Step, st.Error = StepHotStarted, ""
		if err := s.saveState(ctx, *st); err != nil {
			return err
		}
	}
	mctx := store.WithSettings(ctx, store.Settings{"mutations_sync": 2})
	for _, t := range targets {
		guard, tenant := scope.Predicate("")
		if err := s.db.Exec(mctx, "ALTER TABLE "+store.MutationTarget(t.table, s.cfg.Cluster)+" DELETE WHERE "+guard+" AND "+t.cond,
			append([]any{tenant}, t.args...)...); err != nil {
			return errs.Wrap(op, errs.KindOf(err), err, "cannot delete the user's rows from "+t.table)
		}
	}
	for _, r := range dayRuns(st.RollupDays) {
		if err := s.cfg.Rollups.Rebuild(ctx, scope, r[0], r[1]); err != nil {
			return errs.Wrap(op, errs.KindOf(err), err, "cannot rebuild the rollups of "+r[0].Format(dayLayout))
		}
	}
	for _, t := range targets {
		n, err := s.countUser(ctx, scope, t)
		if err != nil {
			return err
		}
		if n != 0 {
			return errs.E(op, errs.KindUnavailable, fmt.Sprintf("%d rows of the user are still in %s after the delete", n, t.table))
		}
	}
	st.Step, st.Error = StepHotDone, ""
	return s.saveState(ctx, *st)
}

// countUser counts the user's rows in one target.
func (s *Service) countUser(ctx context.Context, scope store.Scope, t hotTarget) (uint64, error) {
	guard, tenant := scope.Predicate("")
	final := ""
	if t.final {
		final = " FINAL"
	}
	var n uint64
	err := s.db.QueryRow(ctx, []any{&n}, "SELECT count() FROM "+store.QuoteIdent(t.table)+final+" WHERE "+guard+" AND "+t.cond,
		append([]any{tenant}, t.args...)...)
	return n, err
}

// userDays lists the UTC days with events of the user, ascending.
func (s *Service) userDays(ctx context.Context, scope store.Scope, userID string) ([]string, error) {
	guard, tenant := scope.Predicate("")
	rows, err := s.db.Query(ctx, "SELECT DISTINCT toString(toDate(occurred_at)) AS d FROM "+store.QuoteIdent(eventsTable)+
		" WHERE "+guard+" AND user_id = ? ORDER BY d", tenant, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var days []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, errs.Wrap("privacy.userDays", errs.KindInternal, err, "")
		}
		days = append(days, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return days, rows.Close()
}

// tableExists reports whether a table is in the current database.
func tableExists(ctx context.Context, db *store.DB, name string) (bool, error) {
	var n uint64
	err := db.QueryRow(ctx, []any{&n}, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = ?", name)
	return n > 0, err
}

// dayRuns groups ascending days into [from, to) runs of consecutive days,
// so a rebuild is one mutation per run rather than per day.
func dayRuns(days []string) [][2]time.Time {
	var out [][2]time.Time
	for _, d := range days {
		t, err := time.Parse(dayLayout, d)
		if err != nil {
			continue
		}
		if n := len(out); n > 0 && out[n-1][1].Equal(t) {
			out[n-1][1] = t.AddDate(0, 0, 1)
			continue
		}
		out = append(out, [2]time.Time{t, t.AddDate(0, 0, 1)})
	}
	return out
}
