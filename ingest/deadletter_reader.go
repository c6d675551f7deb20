package ingest

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// Limits of DeadLetters.Recent.
const (
	DefaultDeadLetterLimit = 50
	MaxDeadLetterLimit     = 500
)

// DeadLetterRecord is a refused envelope as an admin sees it.
type DeadLetterRecord struct {
	ReceivedAt time.Time
	Subject    string
	Reason     Reason
	Message    string
	Payload    string
}

// DeadLetters reads the dead_letters table for the caller's tenant.
type DeadLetters struct {
	db *store.DB
}

// NewDeadLetters returns the dead-letter reader on db.
func NewDeadLetters(db *store.DB) *DeadLetters { return &DeadLetters{db: db} }

// Recent returns the caller's tenant's latest dead letters, newest first;
// limit ≤ 0 means DefaultDeadLetterLimit and is capped at
// MaxDeadLetterLimit. Without a verified tenant in ctx it fails closed.
func (d *DeadLetters) Recent(ctx context.Context, limit int) ([]DeadLetterRecord, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultDeadLetterLimit
	}
	limit = min(limit, MaxDeadLetterLimit)
	guard, tenant := scope.Predicate("")
	rows, err := d.db.Query(ctx,
		"SELECT received_at, subject, reason_code, reason, payload FROM "+store.QuoteIdent(DeadLettersTable)+
			" WHERE "+guard+" ORDER BY received_at DESC LIMIT ?", tenant, uint64(limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []DeadLetterRecord{}
	for rows.Next() {
		var r DeadLetterRecord
		var code string
		if err := rows.Scan(&r.ReceivedAt, &r.Subject, &code, &r.Message, &r.Payload); err != nil {
			return nil, err
		}
		r.Reason = Reason(code)
		out = append(out, r)
	}
	return out, rows.Close()
}
