package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseKeySet(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	b64 := base64.RawURLEncoding.EncodeToString
	pt, err := ek.PublicKey.Bytes()
	require.NoError(t, err)
	rsaJWK := map[string]any{"kty": "RSA", "kid": "r", "n": b64(rk.N.Bytes()), "e": b64(big.NewInt(int64(rk.E)).Bytes())}
	ecJWK := map[string]any{"kty": "EC", "kid": "e", "crv": "P-256", "x": b64(pt[1:33]), "y": b64(pt[33:])}
	with := func(base map[string]any, k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range base {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	offCurve := append([]byte(nil), pt[33:]...)
	offCurve[31] ^= 1
	p384pt, err := p384.PublicKey.Bytes()
	require.NoError(t, err)

	tests := []struct {
		name     string
		keys     []any
		wantKids []string
		wantErr  string
	}{
		{name: "rsa and ec", keys: []any{rsaJWK, ecJWK}, wantKids: []string{"r", "e"}},
		{name: "padded base64 accepted", keys: []any{with(ecJWK, "x", base64.URLEncoding.EncodeToString(pt[1:33]))}, wantKids: []string{"e"}},
		{
			name:     "unusable entries skipped",
			keys:     []any{map[string]any{"kty": "oct", "k": "c2VjcmV0"}, with(rsaJWK, "use", "enc"), ecJWK, with(rsaJWK, "alg", "RS512")},
			wantKids: []string{"e"},
		},
		{name: "weak rsa", keys: []any{with(rsaJWK, "n", b64(rk.N.Bytes()[:128]))}, wantErr: "RSA modulus is 1024 bits; at least 2048 are required"},
		{name: "even exponent", keys: []any{with(rsaJWK, "e", b64([]byte{2}))}, wantErr: "RSA exponent 2 is invalid"},
		{name: "P-384", keys: []any{with(with(ecJWK, "crv", "P-384"), "x", b64(p384pt[1:49]))}, wantErr: `curve "P-384" is not supported`},
		{name: "point off the curve", keys: []any{with(ecJWK, "y", b64(offCurve))}, wantErr: "not a P-256 point"},
		{name: "short coordinate", keys: []any{with(ecJWK, "x", b64(pt[1:20]))}, wantErr: "x and y must be 32-byte base64url values"},
		{name: "empty", keys: []any{}, wantErr: "key set has no usable RS256 or ES256 (P-256) key (0 entries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := json.Marshal(map[string]any{"keys": tc.keys})
			require.NoError(t, err)
			set, err := parseKeySet(doc)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			var kids []string
			for _, k := range set.keys {
				kids = append(kids, k.kid)
			}
			assert.Equal(t, tc.wantKids, kids)
		})
	}

	_, err = parseKeySet([]byte(`[1,2]`))
	assert.ErrorContains(t, err, "key set is not a JSON object with a keys array")
}
