package adhoc

import "sync"

// limiter caps the ad-hoc queries running at once: per tenant, so one
// tenant cannot occupy the shared engine, and in the whole process, so
// many tenants together cannot either (with max_memory_usage per query,
// the process-wide cap also bounds the engine memory ad-hoc queries hold:
// at most maxTotal × Config.MaxMemoryUsage). It never blocks: a query
// over a cap is refused (RATE_LIMITED) and the client retries.
type limiter struct {
	mu        sync.Mutex
	perTenant int
	maxTotal  int
	total     int
	running   map[string]int
}

// admission says which cap refused a query; capNone means it was admitted.
type admission int

const (
	capNone admission = iota
	capTenant
	capProcess
)

func newLimiter(perTenant, maxTotal int) *limiter {
	return &limiter{perTenant: perTenant, maxTotal: maxTotal, running: map[string]int{}}
}

// acquire takes a slot for tenant, or reports which cap is reached.
func (l *limiter) acquire(tenant string) admission {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[tenant] >= l.perTenant {
		return capTenant
	}
	if l.total >= l.maxTotal {
		return capProcess
	}
	l.running[tenant]++
	l.total++
	return capNone
}

// release returns a slot taken by acquire.
func (l *limiter) release(tenant string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.running[tenant] <= 1 {
		delete(l.running, tenant)
		return
	}
	l.running[tenant]--
}

// inUse is the number of slots taken now.
func (l *limiter) inUse() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}
