package journeys

import (
	"time"

	"github.com/learnhub/analytics-service/store"
)

// FunnelSQL exposes the funnel statement for golden files.
func FunnelSQL(scope store.Scope, r FunnelRequest, now time.Time) (string, []any, error) {
	p, err := checkFunnel(r, now)
	if err != nil {
		return "", nil, err
	}
	sql, args := p.funnelSQL(scope)
	return sql, args, nil
}

// WithKeyBits is svc narrowed to event keys of n bits, so that funnels
// over the property tests' short ranges take the tuple layout.
func WithKeyBits(svc *Service, n int) *Service {
	c := *svc
	c.keyBits = n
	return &c
}
