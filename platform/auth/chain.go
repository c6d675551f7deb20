package auth

import (
	"context"
	"fmt"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Chain accepts a token that one of its verifiers accepts, choosing the
// verifier by the token header's alg, so production can take dev HS256
// tokens and issuer RS256/ES256 tokens side by side. Routing by alg (rather
// than trying each verifier in turn) keeps the error specific and means an
// HS256 token never reaches a key set and vice versa.
type Chain struct {
	byAlg map[string]Verifier
	algs  []string
}

// NewChain returns a Chain over vs. Two verifiers claiming the same
// algorithm is a configuration error.
func NewChain(vs ...AlgorithmVerifier) (*Chain, error) {
	const op = "auth.NewChain"
	c := &Chain{byAlg: map[string]Verifier{}}
	for _, v := range vs {
		for _, alg := range v.Algorithms() {
			if _, dup := c.byAlg[alg]; dup {
				return nil, errs.E(op, errs.KindInternal, fmt.Sprintf("two verifiers accept %s; configure one", alg))
			}
			c.byAlg[alg] = v
			c.algs = append(c.algs, alg)
		}
	}
	if len(c.algs) == 0 {
		return nil, errs.E(op, errs.KindInternal, "no verifier configured; enable HS256 or a JWKS URL")
	}
	return c, nil
}

// Verify hands raw to the verifier for its alg.
func (c *Chain) Verify(ctx context.Context, raw string) (Principal, error) {
	h, err := parseHeader(raw)
	if err != nil {
		return Principal{}, err
	}
	v, ok := c.byAlg[h.Alg]
	if !ok {
		return Principal{}, algNotAccepted(h.Alg, c.Algorithms())
	}
	return v.Verify(ctx, raw)
}

// Algorithms lists every algorithm some verifier in the chain accepts.
func (c *Chain) Algorithms() []string { return append([]string(nil), c.algs...) }
