package auth

import "testing"

// FuzzParseKeySet checks that no key set document panics the parser and
// that an accepted set holds only usable keys.
func FuzzParseKeySet(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		set, err := parseKeySet(doc)
		if err != nil {
			return
		}
		for _, k := range set.keys {
			if k.key == nil || (k.alg != algRS256 && k.alg != algES256) {
				t.Fatalf("unusable key accepted: %+v", k)
			}
		}
	})
}
