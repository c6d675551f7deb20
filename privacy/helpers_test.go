package privacy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/bus"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

// now is the fixed clock of every test: the hot horizon is 2025-11-01.
var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// env is one test's engines and services.
type env struct {
	db    *store.DB
	bus   *bus.Bus
	blobs blob.Store
	svc   *Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := storetest.Embedded(t)
	_, err := store.Migrate(context.Background(), db, store.MigrateOptions{})
	require.NoError(t, err)
	b, err := bus.Open(context.Background(), bus.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	blobs, err := blob.NewLocal(blob.LocalConfig{Dir: t.TempDir(), Secret: []byte("0123456789abcdef0123")})
	require.NoError(t, err)
	ids := 0
	svc := NewService(db, b, blobs, Config{Now: func() time.Time { return now }, Logger: quiet(), Rollups: metrics.NewRollups(db), NewID: func() string {
		ids++
		return fmt.Sprintf("req-%d", ids)
	}})
	return &env{db: db, bus: b, blobs: blobs, svc: svc}
}

// retention returns a retention job on db and blobs at the test clock.
func (e *env) retention(db *store.DB, blobs blob.Store) *Retention {
	return NewRetention(db, blobs, nil, RetentionConfig{Now: func() time.Time { return now }, Logger: quiet()})
}

// caller is a context with a verified caller of tenant.
func caller(tenant string) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: "admin-" + tenant, Tenant: tenant, Roles: []auth.Role{auth.RoleAdmin}})
}

// ev is one event to insert.
type ev struct {
	id, user, typ string
	at            time.Time
	props         map[string]any
}

func insert(t *testing.T, db *store.DB, tenant string, evs ...ev) {
	t.Helper()
	rows := make([][]any, len(evs))
	for i, e := range evs {
		props := e.props
		if props == nil {
			props = map[string]any{}
		}
		rows[i] = []any{tenant, e.id, e.typ, e.user, "s-" + e.user, e.at, e.at, props}
	}
	require.NoError(t, db.Insert(context.Background(), store.Insert{Table: "events",
		Columns: []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}, Rows: rows}))
}

func count(t *testing.T, db *store.DB, sql string, args ...any) uint64 {
	t.Helper()
	var n uint64
	require.NoError(t, db.QueryRow(context.Background(), []any{&n}, sql, args...))
	return n
}

// coldRow is one row of a cold object as a test reads it.
type coldRow struct {
	tenant, eventID, user, typ string
	props                      string
}

func readCold(t *testing.T, blobs blob.Store, key string) []coldRow {
	t.Helper()
	f, err := openCold(context.Background(), blobs, key)
	require.NoError(t, err)
	defer f.Close()
	cols := map[string]int{}
	for _, c := range []string{"tenant_id", "event_id", "user_id", "type", "properties"} {
		cols[c] = f.column(c)
		require.GreaterOrEqual(t, cols[c], 0, c)
	}
	var out []coldRow
	require.NoError(t, f.each(func(r parquet.Row) error {
		out = append(out, coldRow{tenant: stringAt(r, cols["tenant_id"]), eventID: stringAt(r, cols["event_id"]),
			user: stringAt(r, cols["user_id"]), typ: stringAt(r, cols["type"]), props: stringAt(r, cols["properties"])})
		return nil
	}))
	return out
}

// coldKeys are the cold objects of tenant's month, by key.
func coldKeys(t *testing.T, blobs blob.Store, tenant string, month time.Time) []string {
	t.Helper()
	objs, err := blobs.List(context.Background(), ColdMonthPrefix(tenant, month))
	require.NoError(t, err)
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys
}

// coldKey is the only cold object of tenant's month.
func coldKey(t *testing.T, blobs blob.Store, tenant string, month time.Time) string {
	t.Helper()
	keys := coldKeys(t, blobs, tenant, month)
	require.Len(t, keys, 1, "cold objects of %s %s", tenant, month.Format("2006-01"))
	return keys[0]
}

func readBlob(t *testing.T, blobs blob.Store, key string) []byte {
	t.Helper()
	r, err := blobs.Open(context.Background(), key)
	require.NoError(t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return b
}

// subjectMsgs counts the messages stored for subject in the outgoing stream.
func subjectMsgs(t *testing.T, b *bus.Bus, subject string) uint64 {
	t.Helper()
	s, err := b.JetStream().Stream(context.Background(), b.Stream())
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	require.NoError(t, err)
	return info.State.Subjects[subject]
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not a wait for an event
	}
}

// errInjected is the failure the fault wrappers return.
var errInjected = errors.New("injected failure")

// failingPuts is a blob.Store whose Put fails for keys containing match,
// after reading part of the body (a failure half way through a write).
type failingPuts struct {
	blob.Store
	match string
}

func (f failingPuts) Put(ctx context.Context, key string, r io.Reader) error {
	if strings.Contains(key, f.match) {
		_, _ = io.CopyN(io.Discard, r, 16)
		return errInjected
	}
	return f.Store.Put(ctx, key, r)
}

// failingExec is a store.Backend whose Exec fails for statements
// containing match.
type failingExec struct {
	store.Backend
	match string
}

func (f failingExec) Exec(ctx context.Context, st store.Statement) error {
	if strings.Contains(st.SQL, f.match) {
		return errInjected
	}
	return f.Backend.Exec(ctx, st)
}

// quiet is a logger that drops everything.
func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }
