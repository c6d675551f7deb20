package adhoc

import "sync"

// limiter caps the ad-hoc queries running at once per tenant, so one
// tenant cannot occupy the shared engine. It never blocks: a query over
// the cap is refused (RATE_LIMITED) and the client retries.
type limiter struct {
	mu      sync.Mutex
	max     int
	running map[string]int
}

func newLimiter(max int) *limiter {
	return &limiter{max: max, running: map[string]int{}}
}

// acquire takes a slot for tenant, or reports false when all are taken.
func (l *limiter) acquire(tenant string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[tenant] >= l.max {
		return false
	}
	l.running[tenant]++
	return true
}

// release returns a slot taken by acquire.
func (l *limiter) release(tenant string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[tenant] <= 1 {
		delete(l.running, tenant)
		return
	}
	l.running[tenant]--
}
