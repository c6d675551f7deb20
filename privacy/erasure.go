package privacy

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/learnhub/analytics-service/audit"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Process carries out one erasure request and returns its receipt and
// whether this call published it. It is idempotent on the request id: the
// saga resumes from the step erasure_requests records (hot → cold → receipt
// → audit), and a request already completed publishes nothing and returns
// the stored counts. The tenant comes from the request, which only trusted
// producers can publish (RequestErasure takes it from the verified token).
//
// Which rows: every row of the user in the tenant at the time the request
// is processed, whatever their occurred_at — see docs/events.md.
func (s *Service) Process(ctx context.Context, req Request) (Receipt, bool, error) {
	const op = "privacy.Process"
	if err := req.validate(op); err != nil {
		return Receipt{}, false, err
	}
	scope, err := store.DangerousScopeForTenant(req.Tenant)
	if err != nil {
		return Receipt{}, false, err
	}
	hash, err := s.UserHash(ctx, scope, req.UserID)
	if err != nil {
		return Receipt{}, false, err
	}
	st, found, err := s.loadState(ctx, scope, req.RequestID)
	if err != nil {
		return Receipt{}, false, err
	}
	if !found {
		st = Status{Tenant: req.Tenant, RequestID: req.RequestID, RequestedAt: req.RequestedAt.UTC(), Step: StepRequested}
	}
	if st.UserHash == "" {
		st.UserHash = hash
	}
	if st.UserHash != hash {
		return Receipt{}, false, errs.E(op, errs.KindInvalid, "request "+req.RequestID+" was already used for another user")
	}
	if st.Step >= StepCompleted {
		return s.receipt(st), false, nil
	}
	if st.Step < StepHotDone {
		if err := s.eraseHot(ctx, scope, req.UserID, &st); err != nil {
			s.recordError(ctx, st, err)
			return Receipt{}, false, err
		}
	}
	if st.Step < StepColdDone {
		cold, err := s.eraseCold(ctx, req.Tenant, req.UserID, hash)
		if err != nil {
			s.recordError(ctx, st, err)
			return Receipt{}, false, err
		}
		st.Cold, st.Step, st.Error = cold, StepColdDone, ""
		if err := s.saveState(ctx, st); err != nil {
			return Receipt{}, false, err
		}
	}
	rc := s.receipt(st)
	// Publish before recording completion: a crash in between republishes
	// with the same Nats-Msg-Id, which the stream drops as a duplicate.
	if err := s.bus.Publish(ctx, SubjectErasureCompleted, rc, req.RequestID); err != nil {
		return Receipt{}, false, err
	}
	after, _ := json.Marshal(rc)
	if err := audit.Write(ctx, s.db, [][]any{audit.Row(ctx, req.Tenant, rc.CompletedAt,
		"erasure.completed", "erasure_request", req.RequestID, "", string(after))}); err != nil {
		return Receipt{}, false, err
	}
	st.Step, st.Error = StepCompleted, ""
	if err := s.saveState(ctx, st); err != nil {
		return Receipt{}, false, err
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "erasure completed", slog.String("tenant", req.Tenant),
		slog.String("request_id", req.RequestID), slog.Uint64("hot_events", st.Hot.Events),
		slog.Uint64("cold_rows", st.Cold.Rows))
	return rc, true, nil
}

// receipt is the completion event for a state.
func (s *Service) receipt(st Status) Receipt {
	at := st.UpdatedAt
	if st.Step < StepCompleted || at.IsZero() {
		at = s.now()
	}
	return Receipt{Tenant: st.Tenant, UserHash: st.UserHash, RequestID: st.RequestID, RequestedAt: st.RequestedAt,
		CompletedAt: at, Hot: st.Hot, Cold: st.Cold}
}

// recordError keeps the failure on the current step for Status; the
// failure itself is returned to the caller, so a failed write is only logged.
func (s *Service) recordError(ctx context.Context, st Status, cause error) {
	st.Error = errs.PublicMessage(cause)
	if err := s.saveState(ctx, st); err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "cannot record an erasure failure",
			slog.String("request_id", st.RequestID), slog.String("err", err.Error()))
	}
}
