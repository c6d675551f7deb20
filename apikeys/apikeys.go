// Package apikeys issues, lists, revokes and verifies API keys: long-lived
// bearer secrets ("ak_…") for server-to-server ingest and embedding, each
// scoped to one tenant and one role (ingest or viewer). Only the SHA-256
// of a secret is stored (table api_keys); the secret is shown once, when
// the key is created.
package apikeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Prefix starts every API key secret; the verifier routes on it.
const Prefix = "ak_"

// DefaultCacheTTL bounds how long a replica trusts a looked-up key: a
// revocation is refused by every replica within this time.
const DefaultCacheTTL = 2 * time.Second

// Key is an API key without its secret.
type Key struct {
	ID        string
	Tenant    string
	Name      string
	Role      auth.Role
	Revoked   bool
	CreatedAt time.Time
	CreatedBy string
}

// Service stores keys in ClickHouse.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db, now: time.Now} }

// Create issues a key for the caller's tenant (role admin) and returns it
// with its secret, which is not stored and cannot be shown again.
func (s *Service) Create(ctx context.Context, name string, role auth.Role) (Key, string, error) {
	const op = "apikeys.Create"
	p, err := auth.Require(ctx, auth.RoleAdmin)
	if err != nil {
		return Key{}, "", err
	}
	if role != auth.RoleIngest && role != auth.RoleViewer {
		return Key{}, "", errs.Invalid(op, "role", "role must be INGEST or VIEWER")
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return Key{}, "", errs.Invalid(op, "name", "name must be 1 to 200 characters")
	}
	id := randomText(9)
	secret := Prefix + id + "_" + randomText(32)
	now := s.now().UTC()
	k := Key{ID: id, Tenant: p.Tenant, Name: name, Role: role, CreatedAt: now, CreatedBy: p.Subject}
	if err := s.write(ctx, k, hash(secret), now); err != nil {
		return Key{}, "", err
	}
	return k, secret, nil
}

// List returns the caller's tenant's keys (role admin), newest first.
func (s *Service) List(ctx context.Context) ([]Key, error) {
	if _, err := auth.Require(ctx, auth.RoleAdmin); err != nil {
		return nil, err
	}
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	guard, tenant := scope.Predicate("")
	return s.query(ctx, "WHERE "+guard+" ORDER BY created_at DESC, key_id", tenant)
}

// Revoke revokes one of the caller's tenant's keys (role admin). Every
// replica refuses it within DefaultCacheTTL.
func (s *Service) Revoke(ctx context.Context, id string) (Key, error) {
	if _, err := auth.Require(ctx, auth.RoleAdmin); err != nil {
		return Key{}, err
	}
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return Key{}, err
	}
	guard, tenant := scope.Predicate("")
	keys, err := s.query(ctx, "WHERE "+guard+" AND key_id = ?", tenant, id)
	if err != nil {
		return Key{}, err
	}
	if len(keys) == 0 {
		return Key{}, errs.E("apikeys.Revoke", errs.KindNotFound, "no API key "+id+" in this tenant").With("field", "id")
	}
	k := keys[0]
	k.Revoked = true
	var h string
	if err := s.db.QueryRow(ctx, []any{&h}, "SELECT key_hash FROM api_keys FINAL WHERE "+guard+" AND key_id = ?", tenant, id); err != nil {
		return Key{}, err
	}
	return k, s.write(ctx, k, h, s.now().UTC())
}

func (s *Service) write(ctx context.Context, k Key, keyHash string, now time.Time) error {
	var revoked uint8
	if k.Revoked {
		revoked = 1
	}
	return s.db.Insert(ctx, store.Insert{Table: "api_keys",
		Columns: []string{"tenant_id", "key_id", "version", "key_hash", "name", "role", "revoked", "created_at", "created_by", "updated_at"},
		Rows:    [][]any{{k.Tenant, k.ID, uint64(now.UnixNano()), keyHash, k.Name, string(k.Role), revoked, k.CreatedAt, k.CreatedBy, now}},
	})
}

func (s *Service) query(ctx context.Context, where string, args ...any) ([]Key, error) {
	rows, err := s.db.Query(ctx, "SELECT tenant_id, key_id, name, role, revoked, created_at, created_by FROM api_keys FINAL "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		var k Key
		var role string
		var revoked uint8
		if err := rows.Scan(&k.Tenant, &k.ID, &k.Name, &role, &revoked, &k.CreatedAt, &k.CreatedBy); err != nil {
			return nil, err
		}
		k.Role, k.Revoked = auth.Role(role), revoked == 1
		out = append(out, k)
	}
	return out, rows.Err()
}

// lookup finds the live key whose secret hashes to h (any tenant: the
// secret itself is the proof of tenant).
func (s *Service) lookup(ctx context.Context, h string) (Key, bool, error) {
	keys, err := s.query(ctx, "WHERE key_hash = ? AND revoked = 0", h)
	if err != nil || len(keys) == 0 {
		return Key{}, false, err
	}
	return keys[0], true, nil
}

func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Verifier accepts "ak_…" secrets and hands every other token to Next (the
// JWT verifier chain), so auth.Middleware needs no change.
type Verifier struct {
	Keys *Service
	Next auth.Verifier
	// TTL bounds how long a verified key is trusted without asking the
	// store again; zero means DefaultCacheTTL.
	TTL time.Duration

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	key Key
	at  time.Time
}

// Verify implements auth.Verifier.
func (v *Verifier) Verify(ctx context.Context, raw string) (auth.Principal, error) {
	if !strings.HasPrefix(raw, Prefix) {
		return v.Next.Verify(ctx, raw)
	}
	ttl := v.TTL
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	h := hash(raw)
	now := time.Now()
	v.mu.Lock()
	c, ok := v.cache[h]
	v.mu.Unlock()
	if !ok || now.Sub(c.at) > ttl {
		k, found, err := v.Keys.lookup(ctx, h)
		if err != nil {
			return auth.Principal{}, errs.Wrap("apikeys.Verify", errs.KindUnavailable, err, "API keys cannot be checked right now; retry")
		}
		if !found {
			v.mu.Lock()
			delete(v.cache, h)
			v.mu.Unlock()
			return auth.Principal{}, errs.E("apikeys.Verify", errs.KindUnauthenticated, "unknown or revoked API key")
		}
		c = cached{key: k, at: now}
		v.mu.Lock()
		if v.cache == nil {
			v.cache = map[string]cached{}
		}
		v.cache[h] = c
		v.mu.Unlock()
	}
	return auth.Principal{Subject: "apikey:" + c.key.ID, Tenant: c.key.Tenant, Roles: []auth.Role{c.key.Role}}, nil
}
