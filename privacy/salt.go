package privacy

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// saltBytes is the length of a tenant salt before hex encoding.
const saltBytes = 32

// UserHash is the pseudonym of userID in scope's tenant: HMAC-SHA256 keyed
// by the tenant's salt, hex. The same user always gets the same hash within
// a tenant (so cold-tier rows of one learner still group together) and
// different tenants get unrelated hashes; without the salt, which never
// leaves ClickHouse, the id cannot be recovered by guessing.
func (s *Service) UserHash(ctx context.Context, scope store.Scope, userID string) (string, error) {
	salt, err := s.salt(ctx, scope)
	if err != nil {
		return "", err
	}
	return hashUser(salt, userID), nil
}

// hashUser is the keyed hash behind UserHash.
func hashUser(salt, userID string) string {
	m := hmac.New(sha256.New, []byte(salt))
	m.Write([]byte(userID))
	return hex.EncodeToString(m.Sum(nil))
}

// salt returns the tenant's salt, creating it on first use. Two workers
// creating one at once both insert; the row with the highest rank (the
// earliest written) is kept, and each re-reads after inserting, so both end
// up with the same salt unless the later one read before the earlier wrote.
func (s *Service) salt(ctx context.Context, scope store.Scope) (string, error) {
	const op = "privacy.salt"
	s.mu.Lock()
	cached, ok := s.salts[scope.Tenant()]
	s.mu.Unlock()
	if ok {
		return cached, nil
	}
	salt, found, err := s.readSalt(ctx, scope)
	if err != nil {
		return "", err
	}
	if !found {
		raw := make([]byte, saltBytes)
		if _, err := io.ReadFull(s.cfg.Rand, raw); err != nil {
			return "", errs.Wrap(op, errs.KindInternal, err, "")
		}
		now := s.now()
		rank := uint64(math.MaxInt64) - uint64(now.UnixNano())
		if err := s.db.Insert(ctx, store.Insert{
			Table:   saltsTable,
			Columns: []string{"tenant_id", "salt", "created_at", "rank"},
			Rows:    [][]any{{scope.Tenant(), hex.EncodeToString(raw), now, rank}},
		}); err != nil {
			return "", errs.Wrap(op, errs.KindOf(err), err, "cannot store the tenant's salt")
		}
		if salt, found, err = s.readSalt(ctx, scope); err != nil {
			return "", err
		}
		if !found {
			return "", errs.E(op, errs.KindUnavailable, "the tenant's salt is not readable yet")
		}
	}
	s.mu.Lock()
	s.salts[scope.Tenant()] = salt
	s.mu.Unlock()
	return salt, nil
}

// readSalt reads the tenant's current salt.
func (s *Service) readSalt(ctx context.Context, scope store.Scope) (string, bool, error) {
	guard, tenant := scope.Predicate("")
	rows, err := s.db.Query(ctx, "SELECT salt FROM "+store.QuoteIdent(saltsTable)+" FINAL WHERE "+guard+" ORDER BY rank DESC LIMIT 1", tenant)
	if err != nil {
		return "", false, err
	}
	defer rows.Close()
	var salt string
	found := rows.Next()
	if found {
		if err := rows.Scan(&salt); err != nil {
			return "", false, errs.Wrap("privacy.salt", errs.KindInternal, err, "")
		}
	}
	if err := rows.Err(); err != nil {
		return "", false, err
	}
	return salt, found, rows.Close()
}
