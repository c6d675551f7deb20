package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

// FuzzHMACVerify checks that no input panics the verifier and that every
// refusal is UNAUTHENTICATED with a message for the client.
func FuzzHMACVerify(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("")
	v, err := auth.NewHMACVerifier([]byte(testSecret), auth.VerifyOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := v.Verify(context.Background(), raw)
		if err == nil {
			t.Fatalf("unsigned fuzz input %q verified", raw)
		}
		assert.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
		assert.NotEmpty(t, errs.PublicMessage(err))
	})
}

// FuzzBearerFromHeader checks that an accepted header always yields a
// non-empty token without whitespace.
func FuzzBearerFromHeader(f *testing.F) {
	f.Add("Bearer abc")
	f.Add("bearer  a b")
	f.Add("Basic x")
	f.Fuzz(func(t *testing.T, h string) {
		tok, ok := auth.BearerFromHeader(h)
		if !ok {
			assert.Empty(t, tok)
			return
		}
		assert.NotEmpty(t, tok)
		assert.False(t, strings.ContainsAny(tok, " \t\r\n"), "token %q", tok)
	})
}
