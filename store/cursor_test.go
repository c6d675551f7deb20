package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

func TestKeysetCursor(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 30, 0, 123e6, time.UTC)
	got, id, err := store.DecodeKeysetCursor("x.List", store.KeysetCursor(at, "a|b"))
	require.NoError(t, err)
	assert.Equal(t, at, got)
	assert.Equal(t, "a|b", id, "the id may contain the separator")
	for _, bad := range []string{"%%%", "bm9waXBl", ""} {
		_, _, err := store.DecodeKeysetCursor("x.List", bad)
		assert.True(t, errs.Is(err, errs.KindInvalid), "%q: %v", bad, err)
		assert.Equal(t, "after", errs.PublicFields(err)["field"])
	}
}
