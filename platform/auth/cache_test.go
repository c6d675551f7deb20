package auth_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/auth"
)

// countingVerifier counts the verifications that reach the real verifier.
type countingVerifier struct {
	next auth.Verifier
	n    atomic.Int64
}

func (c *countingVerifier) Verify(ctx context.Context, raw string) (auth.Principal, error) {
	c.n.Add(1)
	return c.next.Verify(ctx, raw)
}

func TestCachingVerifier(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef-cache")
	now := time.Now()
	clock := func() time.Time { return now }
	hv, err := auth.NewHMACVerifier(secret, auth.VerifyOptions{Now: clock, Leeway: time.Second})
	require.NoError(t, err)
	signer, err := auth.NewHMACSigner(secret)
	require.NoError(t, err)
	inner := &countingVerifier{next: hv}
	v := auth.NewCachingVerifier(inner, auth.TokenCacheConfig{Size: 2, MaxAge: time.Hour, Now: clock})
	sign := func(tenant string, ttl time.Duration) string {
		tok, err := signer.Sign(auth.Principal{Subject: "u", Tenant: tenant, Roles: []auth.Role{auth.RoleViewer}}, ttl)
		require.NoError(t, err)
		return tok
	}
	ctx := context.Background()
	acme := sign("acme", 10*time.Minute)
	short := sign("globex", 2*time.Minute)

	steps := []struct {
		name       string
		advance    time.Duration
		token      string
		wantTenant string // "" means refused
		wantCalls  int64  // verifications reaching the real verifier so far
	}{
		{"first use verifies", 0, acme, "acme", 1},
		{"second use is remembered", 0, acme, "acme", 1},
		{"another token verifies on its own", 0, short, "globex", 2},
		{"a forged token is refused and never kept", 0, acme[:len(acme)-2] + "xx", "", 3},
		{"the forged token is checked again", 0, acme[:len(acme)-2] + "xx", "", 4},
		{"remembered within its lifetime", time.Minute, short, "globex", 4},
		{"past its exp the token is verified again (and refused)", 2 * time.Minute, short, "", 5},
		{"a token whose exp is later is still remembered", 0, acme, "acme", 5},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			now = now.Add(s.advance)
			p, err := v.Verify(ctx, s.token)
			if s.wantTenant == "" {
				assert.Error(t, err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, s.wantTenant, p.Tenant)
			}
			assert.Equal(t, s.wantCalls, inner.n.Load())
		})
	}

	t.Run("bounded: the least recently used token is forgotten", func(t *testing.T) {
		a, b, c := sign("a", time.Hour), sign("b", time.Hour), sign("c", time.Hour)
		for _, tok := range []string{a, b, c} {
			_, err := v.Verify(ctx, tok)
			require.NoError(t, err)
		}
		before := inner.n.Load()
		_, err := v.Verify(ctx, c)
		require.NoError(t, err)
		assert.Equal(t, before, inner.n.Load(), "c is kept")
		_, err = v.Verify(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, before+1, inner.n.Load(), "a was evicted by b and c")
	})

	t.Run("size zero is the verifier itself", func(t *testing.T) {
		assert.Same(t, inner, auth.NewCachingVerifier(inner, auth.TokenCacheConfig{}).(*countingVerifier))
	})
}
