package api

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

// Defaults for TenantLimits' zero values.
const (
	DefaultTenantRate        = 50  // operations per second per tenant, per replica
	DefaultTenantBurst       = 100 // operations a tenant may send at once after idling
	DefaultTenantConcurrency = 16  // operations of one tenant in flight at once, per replica
)

// TenantLimits bounds what one tenant can ask of one API replica, so a noisy
// tenant cannot starve the others. Limits are per replica: with N replicas
// behind a balancer a tenant gets up to N times as much.
type TenantLimits struct {
	// Rate is operations per second; zero means DefaultTenantRate.
	Rate float64
	// Burst is the bucket size; zero means DefaultTenantBurst.
	Burst int
	// Concurrency is operations in flight; zero means DefaultTenantConcurrency.
	Concurrency int
}

// tenantLimiter is a gqlgen extension applying TenantLimits to each
// operation of an authenticated caller. Subscriptions count against the rate
// when they start, not while they stream.
type tenantLimiter struct {
	limits TenantLimits
	byTen  sync.Map // tenant → *tenantBudget; read on every operation, written once per tenant
}

type tenantBudget struct {
	rate     *rate.Limiter
	inFlight chan struct{}
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = &tenantLimiter{}

func newTenantLimiter(l TenantLimits) *tenantLimiter {
	if l.Rate <= 0 {
		l.Rate = DefaultTenantRate
	}
	if l.Burst <= 0 {
		l.Burst = DefaultTenantBurst
	}
	if l.Concurrency <= 0 {
		l.Concurrency = DefaultTenantConcurrency
	}
	return &tenantLimiter{limits: l}
}

func (t *tenantLimiter) ExtensionName() string                   { return "TenantLimits" }
func (t *tenantLimiter) Validate(graphql.ExecutableSchema) error { return nil }

func (t *tenantLimiter) budget(tenant string) *tenantBudget {
	if b, ok := t.byTen.Load(tenant); ok {
		return b.(*tenantBudget)
	}
	b, _ := t.byTen.LoadOrStore(tenant, &tenantBudget{rate: rate.NewLimiter(rate.Limit(t.limits.Rate), t.limits.Burst),
		inFlight: make(chan struct{}, t.limits.Concurrency)})
	return b.(*tenantBudget)
}

func (t *tenantLimiter) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	tenant, ok := auth.TenantFrom(ctx)
	if !ok {
		return next(ctx) // anonymous requests fail authentication anyway
	}
	b := t.budget(tenant)
	if !b.rate.Allow() { // takes no token when refused, like a cancelled reservation, without allocating one
		return rateLimited(fmt.Sprintf("tenant %q sends more than %.0f operations per second; retry later", tenant, t.limits.Rate), time.Second)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation != nil && oc.Operation.Operation == "subscription" {
		return next(ctx)
	}
	select {
	case b.inFlight <- struct{}{}:
	default:
		return rateLimited(fmt.Sprintf("tenant %q has %d operations in flight, the most allowed; retry when one finishes", tenant, t.limits.Concurrency), 100*time.Millisecond)
	}
	// A query or mutation is fully resolved inside the first call of its
	// response handler; the slot is released right after it.
	s := &inFlightSlot{next: next(ctx), budget: b}
	return s.respond
}

// inFlightSlot is a query's or mutation's place in its tenant's
// concurrency budget, released after the first response (one allocation
// per operation where a sync.Once and two closures took three).
type inFlightSlot struct {
	next     graphql.ResponseHandler
	budget   *tenantBudget
	released atomic.Bool
}

func (s *inFlightSlot) respond(ctx context.Context) *graphql.Response {
	defer func() {
		if s.released.CompareAndSwap(false, true) {
			<-s.budget.inFlight
		}
	}()
	return s.next(ctx)
}

// rateLimited answers an operation with RATE_LIMITED and a retry hint.
func rateLimited(msg string, retryAfter time.Duration) graphql.ResponseHandler {
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
		Message: msg,
		Extensions: map[string]any{
			"code":              errs.KindRateLimited.String(),
			"retryAfterSeconds": math.Ceil(retryAfter.Seconds()),
		},
	}}})
}
