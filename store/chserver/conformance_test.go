package chserver_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

// TestConformance runs the suite every backend passes, on a fresh database
// of the test server per subtest: the transport part on servers older than
// store.MinServerVersion (Debian's 18.16 in CI), the full suite on
// supported ones.
func TestConformance(t *testing.T) {
	raw, err := openBackend(t, "default").ServerVersion(t.Context())
	require.NoError(t, err)
	v, err := store.ParseVersion(raw)
	require.NoError(t, err)
	open := func(t *testing.T) *store.DB { return openDB(t) }
	if v.Less(store.MinServerVersion) {
		t.Logf("ClickHouse %s is older than %s: running the transport suite only", raw, store.MinServerVersion)
		storetest.RunTransport(t, open)
		return
	}
	storetest.RunFull(t, open)
}
