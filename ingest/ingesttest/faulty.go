// Package ingesttest has test doubles for the ingest pipeline: a
// fault-injecting store.Backend that makes ClickHouse unavailable on demand
// or stops the test's consumer right after an insert succeeded.
package ingesttest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// FaultyBackend wraps a real backend. While Down is set, inserts fail as
// unavailable without reaching the engine; AfterInsert, when set, runs after
// every successful insert (e.g. to cancel the consumer between its insert
// and its acknowledgement).
type FaultyBackend struct {
	store.Backend
	down     atomic.Bool
	failed   atomic.Int64
	inserted atomic.Int64

	mu          sync.Mutex
	afterInsert func(store.Insert)
	refuseRow   func(row []any) bool
}

// NewFaultyBackend wraps b.
func NewFaultyBackend(b store.Backend) *FaultyBackend { return &FaultyBackend{Backend: b} }

// SetDown makes inserts fail (true) or pass through (false).
func (f *FaultyBackend) SetDown(down bool) { f.down.Store(down) }

// SetAfterInsert installs a hook run after each successful insert (nil
// removes it).
func (f *FaultyBackend) SetAfterInsert(fn func(store.Insert)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.afterInsert = fn
}

// SetRefuseRow makes an insert holding a row for which refuse reports true
// fail as ClickHouse fails on data it cannot parse (a CANNOT_PARSE_INPUT
// exception, not retried by the sink), before reaching the engine; nil
// removes it.
func (f *FaultyBackend) SetRefuseRow(refuse func(row []any) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuseRow = refuse
}

// FailedInserts is how many inserts were refused while down.
func (f *FaultyBackend) FailedInserts() int64 { return f.failed.Load() }

// Inserts is how many inserts succeeded.
func (f *FaultyBackend) Inserts() int64 { return f.inserted.Load() }

// Insert implements store.Backend. Every store.ValidJSON value must be
// valid JSON (the embedded backend appends it unchecked into a JSON row);
// one that is not is a bug in the pipeline, and Insert panics.
func (f *FaultyBackend) Insert(ctx context.Context, in store.Insert) error {
	for _, row := range in.Rows {
		for _, v := range row {
			if j, ok := v.(store.ValidJSON); ok && !json.Valid(j) {
				panic(fmt.Sprintf("ingesttest: store.ValidJSON that is not valid JSON: %q", j))
			}
		}
	}
	if f.down.Load() {
		f.failed.Add(1)
		return errs.E("ingesttest.FaultyBackend", errs.KindUnavailable, "ClickHouse is down (injected)")
	}
	f.mu.Lock()
	refuse := f.refuseRow
	f.mu.Unlock()
	for i, row := range in.Rows {
		if refuse != nil && refuse(row) {
			return store.ClassifyException("ingesttest.FaultyBackend", &store.Exception{Code: 27, Name: "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
				Message: fmt.Sprintf("cannot parse row %d (injected)", i)})
		}
	}
	if err := f.Backend.Insert(ctx, in); err != nil {
		return err
	}
	f.inserted.Add(1)
	f.mu.Lock()
	hook := f.afterInsert
	f.mu.Unlock()
	if hook != nil {
		hook(in)
	}
	return nil
}
