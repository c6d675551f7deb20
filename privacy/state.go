package privacy

import (
	"context"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Step is how far an erasure request got; the erasure_requests row with the
// highest step is its state.
type Step uint32

// The steps of the saga, in order.
const (
	StepRequested  Step = 1 // published, not yet processed
	StepHotStarted Step = 2 // counts and affected days recorded; hot deletes may have run
	StepHotDone    Step = 3 // hot tier deleted, rollups rebuilt, verified empty
	StepColdDone   Step = 4 // cold objects rewritten
	StepCompleted  Step = 5 // receipt published, audit written
)

// String is the step's status name as stored and reported.
func (s Step) String() string {
	switch s {
	case StepRequested:
		return "requested"
	case StepHotStarted:
		return "hot_started"
	case StepHotDone:
		return "hot_done"
	case StepColdDone:
		return "cold_done"
	case StepCompleted:
		return "completed"
	}
	return "unknown"
}

// Status is the state of one erasure request as erasure_requests holds it.
type Status struct {
	Tenant      string
	RequestID   string
	UserHash    string
	RequestedAt time.Time
	Step        Step
	Hot         HotCounts
	Cold        ColdCounts
	// RollupDays are the UTC days (YYYY-MM-DD) whose rollups the hot step
	// rebuilds, recorded before the delete so a resumed run still knows them.
	RollupDays []string
	// Error is the last failure at this step; empty when none.
	Error     string
	UpdatedAt time.Time
}

// requestColumns are the erasure_requests columns in insert order.
var requestColumns = []string{"tenant_id", "request_id", "user_hash", "requested_at", "step", "status", "rollup_days",
	"hot_events", "hot_dead_letters", "hot_cohort_users", "cold_objects", "cold_rows", "error", "updated_at"}

// Status returns the state of one of the caller's tenant's erasure
// requests; an unknown id is KindNotFound.
func (s *Service) Status(ctx context.Context, requestID string) (Status, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return Status{}, err
	}
	st, found, err := s.loadState(ctx, scope, requestID)
	if err != nil {
		return Status{}, err
	}
	if !found {
		return Status{}, errs.E("privacy.Status", errs.KindNotFound, "no erasure request with this id").With("field", "requestId")
	}
	return st, nil
}

// loadState reads the furthest state of a request.
func (s *Service) loadState(ctx context.Context, scope store.Scope, requestID string) (Status, bool, error) {
	guard, tenant := scope.Predicate("")
	rows, err := s.db.Query(ctx, "SELECT "+strings.Join(quoted(requestColumns), ", ")+" FROM "+store.QuoteIdent(requestsTable)+
		" FINAL WHERE "+guard+" AND request_id = ? LIMIT 1", tenant, requestID)
	if err != nil {
		return Status{}, false, err
	}
	defer rows.Close()
	var st Status
	found := rows.Next()
	if found {
		var step uint32
		var status, days string
		if err := rows.Scan(&st.Tenant, &st.RequestID, &st.UserHash, &st.RequestedAt, &step, &status, &days,
			&st.Hot.Events, &st.Hot.DeadLetters, &st.Hot.CohortUsers, &st.Cold.Objects, &st.Cold.Rows, &st.Error, &st.UpdatedAt); err != nil {
			return Status{}, false, errs.Wrap("privacy.loadState", errs.KindInternal, err, "")
		}
		st.Step = Step(step)
		if days != "" {
			st.RollupDays = strings.Split(days, ",")
		}
		st.Hot.RollupDays = uint64(len(st.RollupDays))
	}
	if err := rows.Err(); err != nil {
		return Status{}, false, err
	}
	return st, found, rows.Close()
}

// saveState writes st as the request's state (the highest step wins; at an
// equal step the later write wins).
func (s *Service) saveState(ctx context.Context, st Status) error {
	st.UpdatedAt = s.now()
	return s.db.Insert(ctx, store.Insert{Table: requestsTable, Columns: requestColumns, Rows: [][]any{{
		st.Tenant, st.RequestID, st.UserHash, st.RequestedAt, uint32(st.Step), st.Step.String(), strings.Join(st.RollupDays, ","),
		st.Hot.Events, st.Hot.DeadLetters, st.Hot.CohortUsers, st.Cold.Objects, st.Cold.Rows, st.Error, st.UpdatedAt,
	}}})
}

// quoted quotes each identifier.
func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = store.QuoteIdent(n)
	}
	return out
}
