package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/store"
)

// countingBackend is the embedded engine with a record of the statements
// it ran, so tests can count the queries a request cost.
type countingBackend struct {
	store.Backend
	mu  sync.Mutex
	sql []string
}

func (c *countingBackend) Query(ctx context.Context, st store.Statement) (store.Rows, error) {
	c.mu.Lock()
	c.sql = append(c.sql, st.SQL)
	c.mu.Unlock()
	return c.Backend.Query(ctx, st)
}

// count returns how many statements so far mention every one of parts.
func (c *countingBackend) count(parts ...string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.sql {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(s, p)
		}
		if all {
			n++
		}
	}
	return n
}

// announce publishes tenant's commit notice as the ingest sink does after a
// batch, and waits until the results cache has moved the tenant's version.
func (h *harness) announce(tenant string) {
	h.t.Helper()
	before := h.versions.Current(tenant)
	data, err := json.Marshal(ingest.Notice{Tenant: tenant, Count: 1})
	require.NoError(h.t, err)
	require.NoError(h.t, h.bus.Conn().Publish(ingest.NoticeSubject(tenant), data))
	deadline := time.Now().Add(5 * time.Second)
	for h.versions.Current(tenant) == before {
		require.True(h.t, time.Now().Before(deadline), "the commit notice of %s never reached the results cache", tenant)
		time.Sleep(time.Millisecond)
	}
}
