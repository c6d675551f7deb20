package cohorts

import (
	"context"
	"fmt"
	"time"

	"github.com/learnhub/analytics-service/audit"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// versionOf is the membership version of an evaluation scheduled for t:
// unix minutes, so a retried or repeated evaluation of the same slot lands
// on the same version.
func versionOf(t time.Time) uint64 { return uint64(t.UTC().Unix() / 60) }

// Evaluate computes the cohort's members as of scheduledFor, materialises
// them as a new version, records size and entered/exited counts, and
// publishes analytics.cohort.evaluated.v1. Evaluating the same slot again
// returns the recorded result and publishes nothing new. A failure (for
// example a referenced cohort that was deleted) is recorded and the last
// good membership stays in force.
func (s *Service) Evaluate(ctx context.Context, id string, scheduledFor time.Time) (*Evaluation, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.evaluate(ctx, scope, id, scheduledFor)
}

func (s *Service) evaluate(ctx context.Context, scope store.Scope, id string, scheduledFor time.Time) (*Evaluation, error) {
	const op = "cohorts.Evaluate"
	c, err := s.get(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	v := versionOf(scheduledFor)
	if done, err := s.evaluation(ctx, scope, id, v); err != nil || (done != nil && done.Error == "") {
		return done, err
	}
	ev := &Evaluation{CohortID: id, Version: v, ScheduledFor: scheduledFor.UTC().Truncate(time.Minute), EvaluatedAt: s.now().UTC()}
	if err := s.materialise(ctx, scope, c, v, scheduledFor); err != nil {
		if errs.KindOf(err) != errs.KindInvalid {
			return nil, err // transient: the job retries
		}
		ev.Error = errs.PublicMessage(err)
		if rerr := s.record(ctx, scope, ev); rerr != nil {
			return nil, rerr
		}
		return nil, errs.Wrap(op, errs.KindInvalid, err, ev.Error+"; the last good membership stays in force")
	}
	prev, err := s.previousVersion(ctx, scope, id, v)
	if err != nil {
		return nil, err
	}
	entered, exited, err := s.diff(ctx, scope, id, v, prev)
	if err != nil {
		return nil, err
	}
	ev.Size, ev.Entered, ev.Exited = entered.size, entered.count, exited.count
	if err := s.record(ctx, scope, ev); err != nil {
		return nil, err
	}
	if s.pub != nil {
		msg := Evaluated{Tenant: scope.Tenant(), CohortID: id, Version: v, ScheduledFor: ev.ScheduledFor, Size: ev.Size,
			Entered: ev.Entered, Exited: ev.Exited, EnteredUsers: entered.ids, ExitedUsers: exited.ids,
			Truncated: ev.Entered > MaxIDsInEvent || ev.Exited > MaxIDsInEvent}
		if msg.Truncated {
			msg.More = &MorePaging{Query: fmt.Sprintf(`cohort(id: %q) { changes(version: %d, direction: ENTERED|EXITED, first: %d, after: <cursor>) }`, id, v, maxPage)}
			if ev.Entered > MaxIDsInEvent {
				msg.More.EnteredAfter = entered.ids[len(entered.ids)-1]
			}
			if ev.Exited > MaxIDsInEvent {
				msg.More.ExitedAfter = exited.ids[len(exited.ids)-1]
			}
		}
		if err := s.pub.Publish(ctx, SubjectEvaluated, msg, fmt.Sprintf("cohort.evaluated/%s/%s/%d", scope.Tenant(), id, v)); err != nil {
			return nil, err
		}
	}
	return ev, nil
}

// materialise writes the members of version v.
func (s *Service) materialise(ctx context.Context, scope store.Scope, c *Cohort, v uint64, at time.Time) error {
	if c.Criteria == nil {
		rows := make([][]any, len(c.Static))
		for i, u := range c.Static {
			rows[i] = []any{scope.Tenant(), c.ID, v, u}
		}
		return s.db.Insert(ctx, store.Insert{Table: "cohort_users", Columns: []string{"tenant_id", "cohort_id", "version", "user_id"}, Rows: rows})
	}
	defs, err := s.metricDefs(ctx, *c.Criteria)
	if err != nil {
		return err
	}
	members, args, refs, err := membersSQL(scope, c.Criteria, at.UTC(), defs)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if _, err := s.get(ctx, scope, ref); errs.Is(err, errs.KindNotFound) {
			return errs.Invalid("cohorts.Evaluate", "criteria", fmt.Sprintf("the criteria refer to cohort %s, which no longer exists", ref))
		} else if err != nil {
			return err
		}
	}
	return s.db.Exec(ctx, "INSERT INTO cohort_users (tenant_id, cohort_id, version, user_id) SELECT ?, ?, ?, user_id FROM ("+members+")",
		append([]any{scope.Tenant(), c.ID, v}, args...)...)
}

func (s *Service) previousVersion(ctx context.Context, scope store.Scope, id string, v uint64) (uint64, error) {
	guard, tenant := scope.Predicate("")
	var prev uint64
	err := s.db.QueryRow(ctx, []any{&prev}, "SELECT max(version) FROM cohort_evaluations FINAL WHERE "+guard+
		" AND cohort_id = ? AND version < ? AND error = ''", tenant, id, v)
	return prev, err
}

// diffFlags is the per-user presence in version v and prev, with its args.
func diffFlags(scope store.Scope, id string, v, prev uint64) (string, []any) {
	guard, tenant := scope.Predicate("")
	return "SELECT user_id, max(version = ?) AS now_in, max(version = ?) AS was_in FROM cohort_users FINAL WHERE " + guard +
		" AND cohort_id = ? AND version IN (?, ?) GROUP BY user_id", []any{v, prev, tenant, id, v, prev}
}

// side is one direction of a membership diff.
type side struct {
	size  uint64
	count uint64
	ids   []string
}

// diff compares version v with prev (0: nobody before).
func (s *Service) diff(ctx context.Context, scope store.Scope, id string, v, prev uint64) (entered, exited side, err error) {
	flags, fargs := diffFlags(scope, id, v, prev)
	if err = s.db.QueryRow(ctx, []any{&entered.size, &entered.count, &exited.count},
		"SELECT countIf(now_in), countIf(now_in AND NOT was_in), countIf(was_in AND NOT now_in) FROM ("+flags+")", fargs...); err != nil {
		return
	}
	exited.size = entered.size
	if entered.ids, err = s.ids(ctx, "SELECT user_id FROM ("+flags+") WHERE now_in AND NOT was_in ORDER BY user_id LIMIT ?", fargs); err != nil {
		return
	}
	exited.ids, err = s.ids(ctx, "SELECT user_id FROM ("+flags+") WHERE was_in AND NOT now_in ORDER BY user_id LIMIT ?", fargs)
	return
}

func (s *Service) ids(ctx context.Context, sql string, args []any) ([]string, error) {
	rows, err := s.db.Query(ctx, sql, append(append([]any{}, args...), MaxIDsInEvent)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *Service) record(ctx context.Context, scope store.Scope, ev *Evaluation) error {
	if err := s.db.Insert(ctx, store.Insert{Table: "cohort_evaluations",
		Columns: []string{"tenant_id", "cohort_id", "version", "scheduled_for", "evaluated_at", "size", "entered", "exited", "error"},
		Rows:    [][]any{{scope.Tenant(), ev.CohortID, ev.Version, ev.ScheduledFor, ev.EvaluatedAt, ev.Size, ev.Entered, ev.Exited, ev.Error}},
	}); err != nil {
		return err
	}
	return audit.Write(ctx, s.db, [][]any{audit.Row(ctx, scope.Tenant(), ev.EvaluatedAt, "evaluate", "cohort", ev.CohortID, "",
		fmt.Sprintf(`{"version":%d,"size":%d,"entered":%d,"exited":%d,"error":%q}`, ev.Version, ev.Size, ev.Entered, ev.Exited, ev.Error))})
}

// evaluation returns the recorded evaluation of version v, or nil.
func (s *Service) evaluation(ctx context.Context, scope store.Scope, id string, v uint64) (*Evaluation, error) {
	hist, err := s.history(ctx, scope, id, "AND version = ?", v)
	if err != nil || len(hist) == 0 {
		return nil, err
	}
	return hist[0], nil
}

// Changes pages the users who entered (entered true) or exited the
// cohort at evaluation version, ordered by user id, first at a time (1 to
// 500) after the user id cursor: the rest of an event's truncated lists.
func (s *Service) Changes(ctx context.Context, id string, version uint64, entered bool, first int, after string) ([]string, bool, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, false, err
	}
	if _, err := s.get(ctx, scope, id); err != nil {
		return nil, false, err
	}
	if first <= 0 || first > maxPage {
		return nil, false, errs.Invalid("cohorts.Changes", "first", fmt.Sprintf("first must be between 1 and %d", maxPage))
	}
	done, err := s.evaluation(ctx, scope, id, version)
	if err != nil {
		return nil, false, err
	}
	if done == nil || done.Error != "" {
		return nil, false, errs.E("cohorts.Changes", errs.KindNotFound, fmt.Sprintf("cohort %s has no good evaluation at version %d", id, version)).With("field", "version")
	}
	prev, err := s.previousVersion(ctx, scope, id, version)
	if err != nil {
		return nil, false, err
	}
	flags, fargs := diffFlags(scope, id, version, prev)
	where := "now_in AND NOT was_in"
	if !entered {
		where = "was_in AND NOT now_in"
	}
	ids, err := s.ids(ctx, "SELECT user_id FROM ("+flags+") WHERE "+where+" AND user_id > ? ORDER BY user_id LIMIT least(?, ?)",
		append(fargs, after, first+1))
	if err != nil {
		return nil, false, err
	}
	if len(ids) > first {
		return ids[:first], true, nil
	}
	return ids, false, nil
}

// SizeHistory is the size of every good evaluation, oldest first (at most
// the last 1 000), for a chart of the cohort over time.
func (s *Service) SizeHistory(ctx context.Context, id string) ([]SizePoint, error) {
	hist, err := s.History(ctx, id, 1000)
	if err != nil {
		return nil, err
	}
	out := []SizePoint{}
	for i := len(hist) - 1; i >= 0; i-- {
		e := hist[i]
		if e.Error != "" {
			continue
		}
		out = append(out, SizePoint{Version: e.Version, ScheduledFor: e.ScheduledFor, Size: e.Size, Entered: e.Entered, Exited: e.Exited})
	}
	return out, nil
}

// History is the cohort's evaluations, newest first (size history).
func (s *Service) History(ctx context.Context, id string, limit int) ([]*Evaluation, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.get(ctx, scope, id); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.history(ctx, scope, id, "ORDER BY version DESC LIMIT ?", limit)
}

func (s *Service) history(ctx context.Context, scope store.Scope, id, tail string, arg any) ([]*Evaluation, error) {
	guard, tenant := scope.Predicate("")
	rows, err := s.db.Query(ctx, "SELECT version, scheduled_for, evaluated_at, size, entered, exited, error FROM cohort_evaluations FINAL WHERE "+
		guard+" AND cohort_id = ? "+tail, tenant, id, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Evaluation{}
	for rows.Next() {
		e := &Evaluation{CohortID: id}
		if err := rows.Scan(&e.Version, &e.ScheduledFor, &e.EvaluatedAt, &e.Size, &e.Entered, &e.Exited, &e.Error); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Members pages through the latest good membership, ordered by user id;
// after is the last user id of the previous page.
func (s *Service) Members(ctx context.Context, id string, first int, after string) ([]string, bool, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, false, err
	}
	if _, err := s.get(ctx, scope, id); err != nil {
		return nil, false, err
	}
	if first <= 0 || first > maxPage {
		return nil, false, errs.Invalid("cohorts.Members", "first", fmt.Sprintf("first must be between 1 and %d", maxPage))
	}
	guard, tenant := scope.Predicate("")
	ids, err := s.ids(ctx, "SELECT user_id FROM cohort_users FINAL WHERE "+guard+" AND cohort_id = ? AND version = "+
		"(SELECT max(version) FROM cohort_evaluations FINAL WHERE "+guard+" AND cohort_id = ? AND error = '') AND user_id > ? ORDER BY user_id LIMIT least(?, ?)",
		[]any{tenant, id, tenant, id, after, first + 1})
	if err != nil {
		return nil, false, err
	}
	if len(ids) > first {
		return ids[:first], true, nil
	}
	return ids, false, nil
}

// maxPage is the largest members page (below MaxIDsInEvent, which also caps
// the query, so a full page can still tell whether more follow).
const maxPage = 500
