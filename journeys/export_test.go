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
