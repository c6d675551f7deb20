package chembedded_test

import (
	"testing"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

// TestConformance runs the full backend suite on the embedded engine.
func TestConformance(t *testing.T) {
	storetest.RunFull(t, func(t *testing.T) *store.DB { return storetest.Embedded(t) })
}
