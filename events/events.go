// Package events answers questions about the raw event stream of the
// caller's tenant. Every read is scoped by the verified tenant (store.Scope)
// and counts at-least-once duplicates once (FINAL on the ReplacingMergeTree).
package events

import (
	"context"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// Table is the hot-tier events table.
const Table = "events"

// TypeCount is how many distinct events of one type a tenant recorded.
type TypeCount struct {
	Type  string
	Count int64
}

// Service reads the events table.
type Service struct {
	db *store.DB
}

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// TypeCounts returns events per type in r for the caller's tenant, most
// frequent first. Without a verified tenant in ctx it fails closed.
func (s *Service) TypeCounts(ctx context.Context, r timerange.Range) ([]TypeCount, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	guard, tenant := scope.Predicate("")
	rows, err := s.db.Query(ctx,
		"SELECT type, count() AS n FROM "+store.QuoteIdent(Table)+" FINAL"+
			" WHERE "+guard+" AND occurred_at >= ? AND occurred_at < ?"+
			" GROUP BY type ORDER BY n DESC, type",
		tenant, r.From, r.To)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TypeCount{}
	for rows.Next() {
		var tc TypeCount
		if err := rows.Scan(&tc.Type, &tc.Count); err != nil {
			return nil, err
		}
		out = append(out, tc)
	}
	return out, rows.Err()
}
