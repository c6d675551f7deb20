package privacy

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/learnhub/analytics-service/audit"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// maxUserID bounds the length of a user id in a request.
const maxUserID = 256

// Request is the payload of privacy.erasure.requested.v1 (JSON). RequestID
// keys the saga: processing the same id twice does the work once.
type Request struct {
	Tenant      string    `json:"tenant"`
	UserID      string    `json:"user_id"`
	RequestID   string    `json:"request_id"`
	RequestedAt time.Time `json:"requested_at"`
}

// RequestErasure asks for every row of userID in the caller's tenant (from
// the verified token) to be erased: it records the request, writes an audit
// row and publishes it for the Consumer. It returns the request's first
// state (StepRequested); Status reports on its id later.
func (s *Service) RequestErasure(ctx context.Context, userID string) (Status, error) {
	const op = "privacy.RequestErasure"
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return Status{}, err
	}
	req := Request{Tenant: scope.Tenant(), UserID: userID, RequestID: s.cfg.NewID(), RequestedAt: s.now()}
	if err := req.validate(op); err != nil {
		return Status{}, err
	}
	if err := s.ensureStream(ctx); err != nil {
		return Status{}, err
	}
	hash, err := s.UserHash(ctx, scope, userID)
	if err != nil {
		return Status{}, err
	}
	st := Status{Tenant: req.Tenant, RequestID: req.RequestID, UserHash: hash, RequestedAt: req.RequestedAt, Step: StepRequested}
	if err := s.saveState(ctx, st); err != nil {
		return Status{}, err
	}
	if err := audit.Write(ctx, s.db, [][]any{audit.Row(ctx, req.Tenant, req.RequestedAt,
		"erasure.requested", "erasure_request", req.RequestID, "", `{"user_hash":"`+hash+`"}`)}); err != nil {
		return Status{}, err
	}
	if err := s.bus.Publish(ctx, SubjectErasureRequested, req, req.RequestID); err != nil {
		return Status{}, err
	}
	st.UpdatedAt = req.RequestedAt
	return st, nil
}

// validate checks a request from the bus or the caller.
func (r Request) validate(op string) error {
	switch {
	case r.Tenant == "":
		return errs.Invalid(op, "tenant", "an erasure request needs the tenant")
	case r.UserID == "":
		return errs.Invalid(op, "userId", "userId is empty; pass the id of the learner to erase")
	case len(r.UserID) > maxUserID:
		return errs.Invalid(op, "userId", "userId is longer than 256 characters")
	case r.RequestID == "":
		return errs.Invalid(op, "request_id", "an erasure request needs a request id")
	case r.RequestedAt.IsZero():
		return errs.Invalid(op, "requested_at", "an erasure request needs requested_at")
	}
	return nil
}

// ensureStream creates or updates the PRIVACY stream once per service.
func (s *Service) ensureStream(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streamReady {
		return nil
	}
	if err := s.bus.EnsureStream(ctx, jetstream.StreamConfig{
		Name:        s.cfg.Stream,
		Description: "privacy requests (erasure); see docs/events.md",
		Subjects:    []string{DefaultStreamSubjects},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      s.cfg.StreamMaxAge,
		Duplicates:  s.cfg.DuplicateWindow,
	}); err != nil {
		return err
	}
	s.streamReady = true
	return nil
}
