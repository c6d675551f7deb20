package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// The asymmetric algorithms a key set may serve, and the smallest RSA modulus
// accepted for RS256.
const (
	algRS256       = "RS256"
	algES256       = "ES256"
	minRSAKeyBits  = 2048
	p256CoordBytes = 32
)

// jwk is one entry of a JSON Web Key Set (RFC 7517), with the fields the
// supported key types use.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// publicKey is a usable verification key and the one algorithm it serves.
type publicKey struct {
	kid string
	alg string // algRS256 or algES256
	key any    // *rsa.PublicKey or *ecdsa.PublicKey
}

// keySet is an immutable snapshot of the keys published at the JWKS URL.
type keySet struct {
	keys []publicKey
}

// parseKeySet decodes a JWKS document. Entries this service cannot use
// (other key types or curves, encryption keys, other algorithms, malformed
// or weak keys) are skipped; a set with no usable key is an error that says
// why each entry was skipped.
func parseKeySet(doc []byte) (*keySet, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, fmt.Errorf("key set is not a JSON object with a keys array: %w", err)
	}
	set := &keySet{}
	var skipped []string
	for i, entry := range raw.Keys {
		k, err := parseJWK(entry)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d: %v", i, err))
			continue
		}
		set.keys = append(set.keys, k)
	}
	if len(set.keys) == 0 {
		return nil, fmt.Errorf("key set has no usable RS256 or ES256 (P-256) key (%d entries; %s)",
			len(raw.Keys), strings.Join(skipped, "; "))
	}
	return set, nil
}

// find returns the key with id kid that verifies alg. An empty kid matches
// when exactly one key verifies alg.
func (s *keySet) find(kid, alg string) (publicKey, bool) {
	var found []publicKey
	for _, k := range s.keys {
		if k.alg == alg && (kid == "" || k.kid == kid) {
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		return publicKey{}, false
	}
	return found[0], true
}

// hasKid reports whether any key, for any algorithm, has id kid.
func (s *keySet) hasKid(kid string) bool {
	for _, k := range s.keys {
		if k.kid == kid {
			return true
		}
	}
	return false
}

// parseJWK turns one JWK into a verification key, or says why it cannot.
func parseJWK(entry json.RawMessage) (publicKey, error) {
	var j jwk
	if err := json.Unmarshal(entry, &j); err != nil {
		return publicKey{}, fmt.Errorf("not a JWK object: %w", err)
	}
	if j.Use != "" && j.Use != "sig" {
		return publicKey{}, fmt.Errorf("kid %q: use %q is not sig", j.Kid, j.Use)
	}
	var (
		k   publicKey
		err error
	)
	switch j.Kty {
	case "RSA":
		k, err = rsaKey(j)
	case "EC":
		k, err = ecKey(j)
	default:
		err = fmt.Errorf("key type %q is not supported", j.Kty)
	}
	if err != nil {
		return publicKey{}, fmt.Errorf("kid %q: %w", j.Kid, err)
	}
	if j.Alg != "" && j.Alg != k.alg {
		return publicKey{}, fmt.Errorf("kid %q: alg %q is not supported for kty %s", j.Kid, j.Alg, j.Kty)
	}
	return k, nil
}

// rsaKey builds an RS256 key from the JWK modulus n and exponent e.
func rsaKey(j jwk) (publicKey, error) {
	nb, err := b64url(j.N)
	if err != nil || len(nb) == 0 {
		return publicKey{}, errors.New("n is not a base64url integer")
	}
	eb, err := b64url(j.E)
	if err != nil || len(eb) == 0 || len(eb) > 4 {
		return publicKey{}, errors.New("e is not a base64url integer of at most 32 bits")
	}
	n := new(big.Int).SetBytes(nb)
	if n.BitLen() < minRSAKeyBits {
		return publicKey{}, fmt.Errorf("RSA modulus is %d bits; at least %d are required", n.BitLen(), minRSAKeyBits)
	}
	e := 0
	for _, b := range eb {
		e = e<<8 | int(b)
	}
	if e < 3 || e%2 == 0 {
		return publicKey{}, fmt.Errorf("RSA exponent %d is invalid", e)
	}
	return publicKey{kid: j.Kid, alg: algRS256, key: &rsa.PublicKey{N: n, E: e}}, nil
}

// ecKey builds an ES256 key from the JWK P-256 coordinates x and y; the point
// must lie on the curve.
func ecKey(j jwk) (publicKey, error) {
	if j.Crv != "P-256" {
		return publicKey{}, fmt.Errorf("curve %q is not supported; only P-256 (ES256) is", j.Crv)
	}
	x, errX := b64url(j.X)
	y, errY := b64url(j.Y)
	if errX != nil || errY != nil || len(x) != p256CoordBytes || len(y) != p256CoordBytes {
		return publicKey{}, fmt.Errorf("x and y must be %d-byte base64url values", p256CoordBytes)
	}
	point := make([]byte, 0, 1+2*p256CoordBytes)
	point = append(point, 4) // SEC 1 uncompressed point
	point = append(point, x...)
	point = append(point, y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		return publicKey{}, fmt.Errorf("not a P-256 point: %w", err)
	}
	return publicKey{kid: j.Kid, alg: algES256, key: pub}, nil
}

// b64url decodes base64url, with or without padding.
func b64url(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
