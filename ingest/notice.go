package ingest

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"

	"github.com/learnhub/analytics-service/platform/telemetry"
)

// Notice tells live widgets and caches that a tenant's events changed. One
// is published on core NATS, analytics.ingest.committed.<tenant>, after
// each committed batch that touched the tenant. Delivery is best effort (a
// subscriber that misses one sees the next).
type Notice struct {
	Tenant string `json:"tenant"`
	// Types are the event types the batch touched, sorted.
	Types []string `json:"types"`
	// Count is how many events of the tenant the batch stored.
	Count int `json:"count"`
	// NewestOccurredAt is the latest occurred_at among them.
	NewestOccurredAt time.Time `json:"newest_occurred_at"`
	// OldestOccurredAt is the earliest occurred_at among them: answers over
	// windows ending at or before it are unchanged (see NoticeChange).
	OldestOccurredAt time.Time `json:"oldest_occurred_at"`
}

// NoticeSubject is the subject of tenant's commit notices.
func NoticeSubject(tenant string) string { return NoticeSubjectPrefix + tenant }

// notices summarises a batch's valid events per tenant, in tenant order.
func notices(valid []pending) []Notice {
	byTenant := map[string]*Notice{}
	types := map[string]map[string]bool{}
	for i := range valid {
		e := &valid[i].ev
		n := byTenant[e.TenantID]
		if n == nil {
			n = &Notice{Tenant: e.TenantID}
			byTenant[e.TenantID] = n
			types[e.TenantID] = map[string]bool{}
		}
		n.Count++
		if e.OccurredAt.After(n.NewestOccurredAt) {
			n.NewestOccurredAt = e.OccurredAt
		}
		if n.OldestOccurredAt.IsZero() || e.OccurredAt.Before(n.OldestOccurredAt) {
			n.OldestOccurredAt = e.OccurredAt
		}
		if !types[e.TenantID][e.Type] {
			types[e.TenantID][e.Type] = true
			n.Types = append(n.Types, e.Type)
		}
	}
	out := make([]Notice, 0, len(byTenant))
	for _, n := range byTenant {
		slices.Sort(n.Types)
		out = append(out, *n)
	}
	slices.SortFunc(out, func(a, b Notice) int {
		switch {
		case a.Tenant < b.Tenant:
			return -1
		case a.Tenant > b.Tenant:
			return 1
		}
		return 0
	})
	return out
}

// publishNotices sends the batch's notices; failures only lose a hint.
func publishNotices(ctx context.Context, t *telemetry.Tracing, nc *nats.Conn, valid []pending) error {
	if nc == nil {
		return nil
	}
	for _, n := range notices(valid) {
		data, err := json.Marshal(n)
		if err != nil {
			return err
		}
		msg := &nats.Msg{Subject: NoticeSubject(n.Tenant), Data: data}
		if t != nil { // the live refreshers continue the batch's trace
			msg.Header = nats.Header{}
			t.Inject(ctx, propagation.HeaderCarrier(msg.Header))
		}
		if err := nc.PublishMsg(msg); err != nil {
			return err
		}
	}
	return nil
}
