package adhoc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/storetest"
)

func newPIIFreeService(db *store.DB, policy adhoc.PIIPolicy, keys ...string) *adhoc.Service {
	return adhoc.NewService(db, adhoc.Config{MaxConcurrentPerTenant: 8, PIIKeys: keys, PII: policy})
}

// piiKeys are the fixture's PII keys, written as an operator would
// (ANALYTICS_PII_KEYS), in another case than some of the data's keys.
var piiKeys = []string{"Email", "name", "phone", "user_id"}

// piiFixture holds events of two tenants whose properties carry personal
// data at every place a key can sit: top level in two spellings, nested,
// under an object, inside an array of objects. Every PII value holds the
// marker "pii-"; tenant B's values hold its name.
func piiFixture(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db := storetest.Embedded(t)
	_, err := store.Migrate(ctx, db, store.MigrateOptions{})
	require.NoError(t, err)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var rows [][]any
	for _, tenant := range []string{tenantA, tenantB} {
		for i := range 30 {
			props := map[string]any{
				"course": fmt.Sprintf("%s-c%d", tenant, i%3), "score": int64(i * 3),
				"email":        fmt.Sprintf("pii-%s-%d@example.com", tenant, i),
				"email_domain": "example.com",
				"profile":      map[string]any{"age": int64(20 + i), "Name": fmt.Sprintf("pii-name-%s-%d", tenant, i)},
				"contacts":     []any{map[string]any{"kind": "work", "phone": fmt.Sprintf("pii-phone-%s-%d", tenant, i)}},
			}
			if i%5 == 0 {
				// A mixed array: Array(Dynamic) with an object in it.
				props["mixed"] = []any{int64(i), map[string]any{"email": fmt.Sprintf("pii-mixed-%s-%d@example.com", tenant, i)}}
				props["profile"].(map[string]any)["lists"] = []any{[]any{map[string]any{"phone": fmt.Sprintf("pii-deep-%s-%d", tenant, i)}}}
			}
			switch i % 3 {
			case 1:
				props["EMAIL"] = fmt.Sprintf("pii-upper-%s-%d@example.com", tenant, i)
			case 2:
				delete(props, "email")
				props["email"] = map[string]any{"work": fmt.Sprintf("pii-work-%s-%d@example.com", tenant, i)}
			}
			rows = append(rows, []any{tenant, fmt.Sprintf("%s-e%02d", tenant, i), []string{"quiz.submitted", "user.login"}[i%2],
				fmt.Sprintf("pii-user-%s-%d", tenant, i%7), fmt.Sprintf("%s-s%d", tenant, i), at.Add(time.Duration(i) * time.Hour), at.Add(time.Duration(i) * time.Hour), props})
		}
	}
	require.NoError(t, db.Insert(ctx, store.Insert{Table: "events", Columns: eventColumns, Rows: rows}))
	return db
}

func asRole(tenant string, role auth.Role) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: string(role) + "@" + tenant, Tenant: tenant, Roles: []auth.Role{role}})
}

// TestPIIFreeBypasses: whatever the SQL, a caller of the PII-free relation
// gets no PII value and nothing of the other tenant.
func TestPIIFreeBypasses(t *testing.T) {
	db := piiFixture(t)
	svc := newPIIFreeService(db, adhoc.PIIHidden, piiKeys...)
	ctx := as(tenantA)
	for _, sql := range []string{
		"SELECT * FROM events",
		"SELECT properties FROM events",
		"SELECT e.* FROM events AS e",
		"SELECT toJSONString(properties) FROM events",
		"SELECT properties.email, properties.EMAIL, properties.Email, properties.profile.Name, properties.profile.name, properties.email.work FROM events",
		"SELECT properties.email.:String, properties.profile.Name.:String, properties.email.work.:String FROM events",
		"SELECT e.properties.email AS contact, e.properties.contacts FROM events AS e",
		"SELECT properties.contacts, toString(properties.contacts) FROM events",
		"SELECT properties.mixed, toString(properties.mixed), properties.profile.lists, toString(properties.profile.lists) FROM events",
		"SELECT toJSONString(properties) FROM events WHERE event_id IN ('acme-e00', 'acme-e05')",
		"SELECT JSONExtractString(toJSONString(properties), concat('em', 'ail')) FROM events",
		"SELECT JSONExtractString(toJSONString(properties), upper('email')) FROM events",
		"SELECT JSONExtractRaw(toJSONString(properties), 'profile'), JSONExtractRaw(toJSONString(properties), 'contacts') FROM events",
		"SELECT JSONExtractKeys(toJSONString(properties)) FROM events",
		"SELECT toJSONString(properties.contacts), JSONExtractRaw(toJSONString(properties), 'contacts') FROM events",
		"SELECT extractAll(toJSONString(properties), '[a-z0-9.-]+@[a-z.]+') FROM events",
		"SELECT replaceRegexpAll(toJSONString(properties), 'course', 'x') FROM events",
		"SELECT arrayJoin(JSONAllPaths(properties)) AS p, count() FROM events GROUP BY p",
		"SELECT JSONAllPathsWithTypes(properties) FROM events",
		"SELECT toString(properties.email) AS v, count() FROM events GROUP BY v",
		"SELECT groupArray(toString(properties.email)) FROM events",
		"SELECT user_id, count() FROM events GROUP BY user_id",
		"SELECT max(user_id), any(user_id) FROM events",
		"WITH x AS (SELECT properties AS p FROM events) SELECT toJSONString(p) FROM x",
		"SELECT toJSONString(s.properties), s.properties.email FROM (SELECT * FROM events) AS s",
		"SELECT email FROM (SELECT toString(properties.email) AS email FROM events)",
		"SELECT toJSONString(a.properties) FROM events AS a JOIN events AS b ON a.event_id = b.event_id",
		"SELECT a.properties.email, b.properties.profile.Name FROM events AS a JOIN events AS b ON a.event_id = b.event_id",
		"SELECT toJSONString(properties) FROM events UNION ALL SELECT toString(properties.email) FROM events",
		"SELECT (SELECT any(toString(properties.email)) FROM events) AS v",
		"SELECT count() FROM events WHERE event_id IN (SELECT event_id FROM events WHERE toString(properties.email) != '')",
		"SELECT dynamicType(properties.email), dynamicType(properties.contacts) FROM events",
	} {
		t.Run(sql, func(t *testing.T) {
			res, err := svc.Run(ctx, sql, 1000)
			require.NoError(t, err)
			require.NotEmpty(t, res.Rows)
			b, err := json.Marshal(res.Rows)
			require.NoError(t, err)
			assert.NotContains(t, string(b), "pii-", "a PII value left the sandbox")
			assert.NotContains(t, string(b), tenantB, "another tenant's value leaked")
			for _, c := range res.Columns {
				assert.False(t, strings.HasPrefix(c.Name, "__pii_free_"), "a helper column in the result: %s", c.Name)
			}
		})
	}
	t.Run("the refusals stay", func(t *testing.T) {
		for _, sql := range []string{
			"SELECT * FROM system.query_log",
			"SELECT * FROM url('http://x/', 'JSONEachRow')",
			"SELECT * FROM default.events",
			"SELECT 1 AS properties",
			"SELECT count() AS __pii_free_0 FROM events",
			// typed reads of parametrised types do not print (as on the
			// stored data); they fail rather than read anything.
			"SELECT properties.contacts.:Array(JSON) FROM events",
			"SELECT properties.contacts.:Array(Dynamic) FROM events",
		} {
			_, err := svc.Run(ctx, sql, 10)
			require.Error(t, err, sql)
		}
	})
}

// TestPIIFreeProbes: a condition on a PII value gives the count it gives
// when the condition holds nowhere, so it tells nothing about the data.
func TestPIIFreeProbes(t *testing.T) {
	db := piiFixture(t)
	svc := newPIIFreeService(db, adhoc.PIIHidden, piiKeys...)
	stored := newService(db)
	ctx := as(tenantA)
	count := func(s *adhoc.Service, where string) uint64 {
		t.Helper()
		res, err := s.Run(ctx, "SELECT count() FROM events WHERE "+where, 10)
		require.NoError(t, err, where)
		return res.Rows[0][0].(uint64)
	}
	for _, p := range []struct{ hit, miss string }{
		{"properties.email = 'pii-acme-0@example.com'", "properties.email = 'nobody@nowhere'"},
		{"properties.email.:String = 'pii-acme-0@example.com'", "properties.email.:String = 'nobody@nowhere'"},
		{"properties.EMAIL LIKE 'pii-upper-%'", "properties.EMAIL LIKE 'nobody%'"},
		{"toString(properties.email.work) LIKE '%@%'", "toString(properties.email.work) LIKE 'nobody'"},
		{"toString(properties.profile.Name) LIKE 'pii-name-acme-1%'", "toString(properties.profile.Name) LIKE 'nobody'"},
		{"properties.email IS NOT NULL", "isNotNull(CAST(NULL AS Nullable(String)))"},
		{"JSONHas(toJSONString(properties), 'email')", "JSONHas(toJSONString(properties), 'nobody')"},
		{"position(toJSONString(properties), 'pii-acme-3@') > 0", "position(toJSONString(properties), 'nobody') > 0"},
		{"toJSONString(properties) LIKE '%pii-phone-acme-4%'", "toJSONString(properties) LIKE '%nobody%'"},
		{"toJSONString(properties) LIKE '%pii-mixed-acme-5%'", "toJSONString(properties) LIKE '%nobody%'"},
		{"position(toString(properties.mixed), 'pii-mixed') > 0", "position(toString(properties.mixed), 'nobody') > 0"},
		{"position(toString(properties.profile.lists), 'pii-deep') > 0", "position(toString(properties.profile.lists), 'nobody') > 0"},
		{"JSONExtractString(toJSONString(properties), concat('em', 'ail')) = 'pii-acme-0@example.com'", "JSONExtractString(toJSONString(properties), concat('em', 'ail')) = 'nobody'"},
		{"has(JSONAllPaths(properties), 'email')", "has(JSONAllPaths(properties), 'nobody')"},
		{"user_id = 'pii-user-acme-1'", "user_id = 'nobody'"},
		{"user_id LIKE 'pii-user-acme-%'", "user_id LIKE 'nobody'"},
		{"event_id IN (SELECT event_id FROM events WHERE properties.email = 'pii-acme-0@example.com')", "event_id IN (SELECT event_id FROM events WHERE properties.email = 'nobody')"},
	} {
		t.Run(p.hit, func(t *testing.T) {
			assert.Positive(t, count(stored, p.hit), "the probe must hit on the stored data, or it proves nothing")
			assert.Equal(t, count(svc, p.miss), count(svc, p.hit), "the probe's count tells whether the value exists")
		})
	}
}

// TestPIIFreeKeepsTheRest: what is not PII reads as stored, distinct
// counts of a pseudonymised column included, and tenant B stays out.
func TestPIIFreeKeepsTheRest(t *testing.T) {
	db := piiFixture(t)
	svc := newPIIFreeService(db, adhoc.PIIHidden, piiKeys...)
	stored := newService(db)
	ctx := as(tenantA)
	for _, sql := range []string{
		"SELECT count(), uniq(user_id), uniqExact(user_id), uniqExact(session_id) FROM events",
		"SELECT toString(properties.course) AS c, count(), sum(properties.score.:Int64) FROM events GROUP BY c ORDER BY c",
		"SELECT e.properties.course.:String AS c, avg(e.properties.profile.age.:Int64) FROM events AS e GROUP BY c ORDER BY c",
		"SELECT properties.email_domain, properties.profile.age FROM events ORDER BY event_id",
		"SELECT type, count() FROM events GROUP BY type ORDER BY type",
		"SELECT count() FROM events WHERE properties.score.:Int64 > 40",
	} {
		t.Run(sql, func(t *testing.T) {
			want, err := stored.Run(ctx, sql, 1000)
			require.NoError(t, err)
			got, err := svc.Run(ctx, sql, 1000)
			require.NoError(t, err)
			require.Len(t, got.Columns, len(want.Columns))
			for i, c := range want.Columns {
				assert.Equal(t, c.Type, got.Columns[i].Type)
				if !strings.Contains(c.Name, ".:") {
					// A typed path read is renamed inside; its column is
					// named after the text as written, in the printer's quoting.
					assert.Equal(t, c.Name, got.Columns[i].Name)
				}
			}
			assert.Equal(t, rowSet(want.Rows), rowSet(got.Rows))
		})
	}
	t.Run("the stripped column keeps the other keys", func(t *testing.T) {
		res, err := svc.Run(ctx, "SELECT toJSONString(properties) FROM events WHERE event_id IN ('acme-e00', 'acme-e01') ORDER BY event_id", 10)
		require.NoError(t, err)
		// e00's profile holds an array of objects: the whole key goes.
		assert.JSONEq(t, `{"course":"acme-c0","email_domain":"example.com","score":0}`, res.Rows[0][0].(string))
		assert.JSONEq(t, `{"course":"acme-c1","email_domain":"example.com","profile":{"age":21},"score":3}`, res.Rows[1][0].(string))
	})
	t.Run("user_id is a stable pseudonym", func(t *testing.T) {
		res, err := svc.Run(ctx, "SELECT user_id, count() AS n FROM events GROUP BY user_id ORDER BY n DESC, user_id", 100)
		require.NoError(t, err)
		assert.Len(t, res.Rows, 7)
		assert.Regexp(t, `^[0-9A-F]{16}$`, res.Rows[0][0])
	})
	t.Run("tenant B sees only its own", func(t *testing.T) {
		res, err := svc.Run(as(tenantB), "SELECT count(), groupUniqArray(toString(properties.course)) FROM events", 10)
		require.NoError(t, err)
		assert.Equal(t, uint64(30), res.Rows[0][0])
		assert.NotContains(t, fmt.Sprint(res.Rows), tenantA+"-")
	})
}

// TestPIIPolicyByRole: under PIIHiddenBelowAdmin (the human eventsQuery)
// an analyst reads the PII-free relation and an admin the stored data.
func TestPIIPolicyByRole(t *testing.T) {
	db := piiFixture(t)
	svc := newPIIFreeService(db, adhoc.PIIHiddenBelowAdmin, piiKeys...)
	const sql = "SELECT toString(properties.email) FROM events WHERE event_id = 'acme-e00'"
	for _, tc := range []struct {
		role auth.Role
		want any
	}{
		{auth.RoleAnalyst, ""},
		{auth.RoleAdmin, "pii-acme-0@example.com"},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			ctx := asRole(tenantA, tc.role)
			assert.Equal(t, tc.role != auth.RoleAdmin, svc.PIIFree(ctx))
			res, err := svc.Run(ctx, sql, 10)
			require.NoError(t, err)
			assert.Equal(t, tc.want, res.Rows[0][0])
		})
	}
}
