package api

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"

	"github.com/learnhub/analytics-service/platform/telemetry"
)

// operationMetrics is the gqlgen extension that counts every operation
// that reached execution by name, type and outcome (the first error's
// extensions.code, or ok), and keeps the number of open subscriptions for
// analytics_live_subscriptions. Documents that fail to parse or validate
// never reach an operation interceptor and are not counted here (the HTTP
// histogram counts their requests). It is the outermost interceptor, so
// operations refused by the rate, subscription and complexity limits count
// with their codes.
type operationMetrics struct {
	m    *telemetry.Metrics
	subs *atomic.Int64
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = operationMetrics{}

func newOperationMetrics(m *telemetry.Metrics) operationMetrics {
	o := operationMetrics{m: m, subs: new(atomic.Int64)}
	m.Read(telemetry.LiveSubscriptions, func() float64 { return float64(o.subs.Load()) })
	return o
}

func (operationMetrics) ExtensionName() string                   { return "OperationMetrics" }
func (operationMetrics) Validate(graphql.ExecutableSchema) error { return nil }

func (o operationMetrics) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	typ := "query"
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
	}
	name := oc.OperationName
	if name == "" && oc.Operation != nil {
		name = oc.Operation.Name
	}
	var release func()
	if typ == "subscription" {
		o.subs.Add(1)
		var once sync.Once
		dec := func() { once.Do(func() { o.subs.Add(-1) }) }
		stop := context.AfterFunc(ctx, dec)
		release = func() { stop(); dec() }
	}
	rh := next(ctx)
	counted := false
	return func(ctx context.Context) *graphql.Response {
		resp := rh(ctx)
		if !counted {
			counted = true
			o.m.ObserveOperation(name, typ, outcome(resp))
		}
		if resp == nil && release != nil {
			release()
		}
		return resp
	}
}

// outcome is the label of a response: ok, or its first error's code.
func outcome(resp *graphql.Response) string {
	if resp == nil || len(resp.Errors) == 0 {
		return telemetry.OutcomeOK
	}
	if c, ok := resp.Errors[0].Extensions["code"].(string); ok {
		return c
	}
	return "INTERNAL"
}
