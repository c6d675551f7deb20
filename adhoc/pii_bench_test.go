package adhoc_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/privacy"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/store/chembedded"
	"github.com/learnhub/analytics-service/store/storetest"
)

// BenchmarkPIIFree runs the same queries on 1 M events (900 k of tenant
// A, with e-mails, names and an array of objects in 1 % of the rows) on
// the stored data and on the PII-free relation (privacy's default keys).
// cpu-µs/op is the process's user+system CPU (the engine is embedded).
//
//	go test -run '^$' -bench PIIFree -benchtime 5x ./adhoc/
func BenchmarkPIIFree(b *testing.B) {
	ctx := store.WithSettings(context.Background(), store.Settings{"max_execution_time": 900})
	db := store.New(storetest.EmbeddedBackend(b, chembedded.Options{}), store.Options{Mode: "embedded"})
	if _, err := store.Migrate(ctx, db, store.MigrateOptions{}); err != nil {
		b.Fatal(err)
	}
	if err := db.Exec(ctx, `INSERT INTO events (tenant_id, event_id, type, user_id, session_id, occurred_at, received_at, properties)
SELECT if(number % 10 = 0, 'globex', 'acme'), toString(number), ['lesson.completed', 'quiz.submitted', 'user.login'][number % 3 + 1],
 concat('u', toString(number % 5000)), concat('s', toString(number % 20000)),
 toDateTime64('2026-03-01 00:00:00', 3) + number, toDateTime64('2026-03-01 00:00:00', 3) + number,
 concat('{"course":"c', toString(number % 20), '","score":', toString(number % 101), ',"email":"u', toString(number % 5000),
  '@x.io","profile":{"name":"N', toString(number % 5000), '","age":', toString(number % 60), '}',
  if(number % 100 = 7, concat(',"answers":[{"q":1,"email":"a', toString(number), '@x.io"}]'), ''), '}')::JSON
FROM numbers(1000000)`); err != nil {
		b.Fatal(err)
	}
	if err := db.Exec(ctx, "OPTIMIZE TABLE events FINAL"); err != nil {
		b.Fatal(err)
	}
	services := []struct {
		name string
		svc  *adhoc.Service
	}{
		{"stored", adhoc.NewService(db, adhoc.Config{MaxExecutionTime: time.Minute})},
		{"pii-free", adhoc.NewService(db, adhoc.Config{MaxExecutionTime: time.Minute, PIIKeys: privacy.DefaultPIIKeys(), PII: adhoc.PIIHidden})},
	}
	for _, q := range []struct{ name, sql string }{
		{"no-properties", "SELECT type, count(), uniq(user_id) FROM events GROUP BY type"},
		{"path", "SELECT toString(properties.course) AS c, count() FROM events GROUP BY c"},
		{"typed-path", "SELECT avg(properties.score.:Int64), max(properties.profile.age.:Int64) FROM events"},
		{"pii-probe", "SELECT count() FROM events WHERE properties.email = 'u7@x.io'"},
		{"whole-column-10k", "SELECT count() FROM events WHERE occurred_at < toDateTime64('2026-03-01 03:00:00', 3) AND position(toJSONString(properties), '@') > 0"},
	} {
		for _, s := range services {
			b.Run(q.name+"/"+s.name, func(b *testing.B) {
				ctx := as("acme")
				var before syscall.Rusage
				_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
				for b.Loop() {
					if _, err := s.svc.Run(ctx, q.sql, 100); err != nil {
						b.Fatal(err)
					}
				}
				var after syscall.Rusage
				_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
				cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			})
		}
	}
}
