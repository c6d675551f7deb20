package ingest

import (
	"encoding/json"

	"github.com/nats-io/nats.go"

	"github.com/learnhub/analytics-service/platform/resultcache"
)

// NoticeChange reads what a commit notice changed for the results cache:
// the tenant of its subject, from its oldest event time on. A notice that
// does not say its oldest time (an older writer, an unreadable body)
// changes the tenant's data at every time.
func NoticeChange(m *nats.Msg) resultcache.Change {
	c := resultcache.Change{Tenant: resultcache.TenantFromSubject(m)}
	var n Notice
	if json.Unmarshal(m.Data, &n) == nil && (n.Tenant == "" || n.Tenant == c.Tenant) {
		c.Since = n.OldestOccurredAt
	}
	return c
}
