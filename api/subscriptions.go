package api

import (
	"context"
	"fmt"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

// Defaults for SubscriptionLimits' zero values.
const (
	DefaultSubscriptionsPerConnection = 20  // live subscriptions on one WebSocket
	DefaultSubscriptionsPerTenant     = 100 // live subscriptions of one tenant, per replica
)

// reasonTooManySubscriptions is the extensions.reason of a refused
// subscription (code RATE_LIMITED).
const reasonTooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS"

// SubscriptionLimits bounds live subscriptions: every one holds a goroutine
// and a share of the live refreshes, so one client or one tenant must not
// open them without end.
type SubscriptionLimits struct {
	// PerConnection caps subscriptions open at once on one WebSocket; zero
	// means DefaultSubscriptionsPerConnection.
	PerConnection int
	// PerTenant caps a tenant's subscriptions open at once on this replica;
	// zero means DefaultSubscriptionsPerTenant.
	PerTenant int
}

// subscriptionLimiter is a gqlgen extension enforcing SubscriptionLimits.
// A refused subscription gets one RATE_LIMITED error (reason
// TOO_MANY_SUBSCRIPTIONS, the limit and its scope) and completes; the
// connection and its other subscriptions stay up. A slot is released when
// the subscription's stream ends or its context is cancelled (client
// `complete`, disconnect).
type subscriptionLimiter struct {
	limits SubscriptionLimits
	mu     sync.Mutex
	byTen  map[string]int
}

// connSubscriptions counts one WebSocket's open subscriptions; wsInit puts
// it in the connection's context.
type connSubscriptions struct {
	mu   sync.Mutex
	open int
}

type connSubscriptionsKey struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = &subscriptionLimiter{}

func newSubscriptionLimiter(l SubscriptionLimits) *subscriptionLimiter {
	if l.PerConnection <= 0 {
		l.PerConnection = DefaultSubscriptionsPerConnection
	}
	if l.PerTenant <= 0 {
		l.PerTenant = DefaultSubscriptionsPerTenant
	}
	return &subscriptionLimiter{limits: l, byTen: map[string]int{}}
}

// withConnSubscriptions gives a WebSocket connection's context its counter.
func withConnSubscriptions(ctx context.Context) context.Context {
	return context.WithValue(ctx, connSubscriptionsKey{}, &connSubscriptions{})
}

func (s *subscriptionLimiter) ExtensionName() string                   { return "SubscriptionLimits" }
func (s *subscriptionLimiter) Validate(graphql.ExecutableSchema) error { return nil }

func (s *subscriptionLimiter) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	tenant, ok := auth.TenantFrom(ctx)
	if !ok {
		return next(ctx) // refused by authentication anyway
	}
	conn, _ := ctx.Value(connSubscriptionsKey{}).(*connSubscriptions)
	if conn != nil {
		conn.mu.Lock()
		if conn.open >= s.limits.PerConnection {
			conn.mu.Unlock()
			return tooManySubscriptions(fmt.Sprintf("this connection has %d subscriptions open, the most allowed; complete one first or open another connection",
				s.limits.PerConnection), "connection", s.limits.PerConnection)
		}
		conn.open++
		conn.mu.Unlock()
	}
	s.mu.Lock()
	if s.byTen[tenant] >= s.limits.PerTenant {
		s.mu.Unlock()
		conn.release()
		return tooManySubscriptions(fmt.Sprintf("tenant %q has %d subscriptions open on this server, the most allowed; complete one first",
			tenant, s.limits.PerTenant), "tenant", s.limits.PerTenant)
	}
	s.byTen[tenant]++
	s.mu.Unlock()

	var once sync.Once
	release := func() {
		once.Do(func() {
			conn.release()
			s.mu.Lock()
			if s.byTen[tenant]--; s.byTen[tenant] <= 0 {
				delete(s.byTen, tenant)
			}
			s.mu.Unlock()
		})
	}
	stop := context.AfterFunc(ctx, release)
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp == nil {
			stop()
			release()
		}
		return resp
	}
}

func (c *connSubscriptions) release() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.open--
	c.mu.Unlock()
}

func tooManySubscriptions(msg, scope string, limit int) graphql.ResponseHandler {
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
		Message: msg,
		Extensions: map[string]any{
			"code":   errs.KindRateLimited.String(),
			"reason": reasonTooManySubscriptions,
			"scope":  scope,
			"limit":  limit,
		},
	}}})
}
