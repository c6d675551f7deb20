package live

import (
	"context"
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/learnhub/analytics-service/ingest"
)

// tenantWatch is one NATS subscription to a tenant's commit notices, shared
// by the tenant's refreshers.
type tenantWatch struct {
	sub    *nats.Subscription // nil without a connection or for a tenant no notice can name
	groups map[*group]struct{}
}

// Poke asks every refresher of tenant to recompute, as an ingest notice
// does. It never blocks: a refresher that already has a refresh pending
// absorbs the poke.
func (h *Hub) Poke(tenant string) { h.poke(tenant, trace.SpanContext{}) }

// poke is Poke from a notice whose trace (sc, may be invalid) the next
// refresh of each group continues.
func (h *Hub) poke(tenant string, sc trace.SpanContext) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w, ok := h.tenants[tenant]; ok {
		for g := range w.groups {
			if sc.IsValid() {
				g.traceMu.Lock()
				g.trace = sc
				g.traceMu.Unlock()
			}
			g.poke()
		}
	}
}

// noticeTrace is the trace context a commit notice carries.
func (h *Hub) noticeTrace(m *nats.Msg) trace.SpanContext {
	if h.cfg.Tracing == nil || m.Header == nil {
		return trace.SpanContext{}
	}
	return trace.SpanContextFromContext(h.cfg.Tracing.Extract(context.Background(), propagation.HeaderCarrier(m.Header)))
}

// watch registers g with its tenant, subscribing to the tenant's notices
// when g is the tenant's first refresher; caller holds mu.
func (h *Hub) watch(g *group) error {
	tenant := g.key.Tenant
	w, ok := h.tenants[tenant]
	if !ok {
		w = &tenantWatch{groups: map[*group]struct{}{}}
		if h.cfg.Conn != nil && subjectSafe(tenant) {
			sub, err := h.cfg.Conn.Subscribe(ingest.NoticeSubject(tenant), func(m *nats.Msg) { h.poke(tenant, h.noticeTrace(m)) })
			if err != nil {
				return err
			}
			w.sub = sub
		}
		h.tenants[tenant] = w
	}
	w.groups[g] = struct{}{}
	return nil
}

// unwatch removes g from its tenant and drops the notice subscription with
// the tenant's last refresher; caller holds mu.
func (h *Hub) unwatch(g *group) {
	w, ok := h.tenants[g.key.Tenant]
	if !ok {
		return
	}
	delete(w.groups, g)
	if len(w.groups) > 0 {
		return
	}
	if w.sub != nil {
		_ = w.sub.Unsubscribe() // a closed connection has nothing left to release
	}
	delete(h.tenants, g.key.Tenant)
}

// subjectSafe reports whether tenant is one subject token without
// wildcards. Ingest only stores tenants of [a-z0-9][a-z0-9_-]*, so a tenant
// that is not safe can have no notices: its keys refresh on the interval,
// and a crafted name can never widen the subscription to other tenants.
func subjectSafe(tenant string) bool {
	return tenant != "" && !strings.ContainsAny(tenant, ".*> \t\r\n")
}
