package adhoc_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

// The tenants of the generated data. Every value of the other tenant
// carries its name, so a leak is visible in any result.
const (
	tenantA = "acme"
	tenantB = "globex"
)

// fixture is the embedded engine with generated events for two tenants
// (full), the same data for tenantA alone (alone), and an oracle database
// whose `events` is a view of full with an explicit tenantA filter.
type fixture struct {
	full, alone, oracle *store.DB
	fullName            string
}

var eventTypes = []string{
	"user.login", "course.enrolled", "lesson.started", "lesson.completed", "quiz.submitted",
	"assignment.submitted", "video.watched", "course.completed", "certificate.issued",
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{full: storetest.Embedded(t), alone: storetest.Embedded(t), oracle: storetest.Embedded(t)}
	for _, db := range []*store.DB{f.full, f.alone} {
		_, err := store.Migrate(ctx, db, store.MigrateOptions{})
		require.NoError(t, err)
	}
	require.NoError(t, f.full.QueryRow(ctx, []any{&f.fullName}, "SELECT currentDatabase()"))
	rowsA := generate(tenantA, 1, 900)
	rowsB := generate(tenantB, 2, 1100)
	ins := func(db *store.DB, rows [][]any) {
		require.NoError(t, db.Insert(ctx, store.Insert{Table: "events", Columns: eventColumns, Rows: rows}))
	}
	ins(f.full, rowsA)
	ins(f.full, rowsB)
	ins(f.alone, rowsA)
	// Redeliveries: the same event ids again, later. FINAL must collapse them.
	ins(f.full, redeliver(rowsA[:40]))
	ins(f.full, redeliver(rowsB[:40]))
	ins(f.alone, redeliver(rowsA[:40]))
	require.NoError(t, f.oracle.Exec(ctx, "CREATE VIEW events AS SELECT * FROM "+
		store.QuoteIdent(f.fullName)+".events FINAL WHERE tenant_id = "+store.QuoteString(tenantA)))
	return f
}

var eventColumns = []string{"tenant_id", "event_id", "type", "user_id", "session_id", "occurred_at", "received_at", "properties"}

// generate makes n deterministic events for tenant.
func generate(tenant string, seed uint64, n int) [][]any {
	r := rand.New(rand.NewPCG(seed, 42))
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	out := make([][]any, 0, n)
	for i := range n {
		typ := eventTypes[r.IntN(len(eventTypes))]
		user := fmt.Sprintf("%s-u%02d", tenant, r.IntN(25))
		at := base.Add(time.Duration(r.IntN(60*24*60)) * time.Minute).Add(time.Duration(r.IntN(1000)) * time.Millisecond)
		props := map[string]any{"course": fmt.Sprintf("%s-c%d", tenant, r.IntN(6)), "device": []string{"web", "ios", "android"}[r.IntN(3)]}
		switch typ {
		case "quiz.submitted":
			props["score"] = int64(r.IntN(101))
		case "video.watched":
			props["seconds"] = int64(30 + r.IntN(3000))
		case "lesson.completed":
			props["lesson"] = fmt.Sprintf("%s-l%d", tenant, r.IntN(40))
		}
		out = append(out, []any{
			tenant, fmt.Sprintf("%s-e%05d", tenant, i), typ, user,
			fmt.Sprintf("%s-s%03d", tenant, r.IntN(300)), at, at.Add(time.Second), props,
		})
	}
	return out
}

func redeliver(rows [][]any) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		c := append([]any(nil), r...)
		c[6] = r[6].(time.Time).Add(time.Hour)
		out[i] = c
	}
	return out
}

// as returns a context of a verified caller of tenant.
func as(tenant string) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: "analyst@" + tenant, Tenant: tenant, Roles: []auth.Role{auth.RoleAdmin}})
}

// corpusCase is one query of a testdata/*.sql corpus.
type corpusCase struct {
	Name string
	Want string // "refused <message part>" or "scoped" (escapes); empty for legit queries
	Hand string // legit queries: the text for the direct run, when SQL cannot run as written
	SQL  string
}

// readCorpus reads cases separated by "-- case: name" lines; a "-- want:"
// line gives the expectation; every other line is SQL.
func readCorpus(t *testing.T, path string) []corpusCase {
	t.Helper()
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	var out []corpusCase
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "-- case: "):
			out = append(out, corpusCase{Name: strings.TrimPrefix(line, "-- case: ")})
		case strings.HasPrefix(line, "-- want: ") && len(out) > 0:
			out[len(out)-1].Want = strings.TrimPrefix(line, "-- want: ")
		case strings.HasPrefix(line, "-- hand: ") && len(out) > 0:
			out[len(out)-1].Hand = strings.TrimPrefix(line, "-- hand: ")
		case len(out) > 0:
			c := &out[len(out)-1]
			c.SQL += line + "\n"
		}
	}
	require.NoError(t, sc.Err())
	for i := range out {
		out[i].SQL = strings.TrimRight(out[i].SQL, "\n")
	}
	return out
}

// rowSet renders rows as sorted strings so results compare as multisets
// regardless of row order and of integer width (bound literals are Int64,
// inline ones UInt8).
func rowSet(rows [][]any) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprint(normalize(r))
	}
	sort.Strings(out)
	return out
}

func normalize(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case float64:
		return fmt.Sprintf("%.9g", x)
	case float32:
		return fmt.Sprintf("%.6g", x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case uint64, int64, uint32, int32, uint8, int8, uint16, int16, int:
		return fmt.Sprint(x)
	}
	return v
}

// queryDirect runs sql as written on db and returns JSON-friendly rows.
func queryDirect(ctx context.Context, db *store.DB, sql string) ([][]any, error) {
	rows, err := db.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := len(rows.Columns())
	var out [][]any
	for rows.Next() {
		vals := make([]any, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if tm, ok := v.(time.Time); ok {
				vals[i] = tm.UTC().Format(time.RFC3339Nano)
			}
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

func newService(db *store.DB) *adhoc.Service {
	return adhoc.NewService(db, adhoc.Config{MaxConcurrentPerTenant: 8})
}
