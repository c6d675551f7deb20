package events

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Which partitions a split policy takes, by how their id (a toYYYYMM value,
// so ids compare as strings) compares to the current month's.
const (
	closedMonths = "<" // the nightly Compactor's
	currentMonth = "=" // the CurrentMerger's
)

// splitPolicy is what tells the Compactor and the CurrentMerger apart: the
// tables, the months and the part count above which a month is merged.
type splitPolicy struct {
	op     string   // errs op of the job
	tables []string // tables in the current database
	which  string   // closedMonths or currentMonth
	limit  int      // a partition with more active parts than this is merged
	logMsg string   // the line logged per merged partition
}

// partition is one month of one table and its active part count.
type partition struct {
	table string
	id    string
	parts int64
}

// splitPartitions lists the partitions p takes, relative to the month now
// falls in (UTC), that have more than limit active parts: table by table
// in the order of p.tables, oldest month first.
func splitPartitions(ctx context.Context, db *store.DB, p splitPolicy, limit int, now time.Time) ([]partition, error) {
	rows, err := db.Query(ctx, `
		SELECT table, partition_id, count() AS parts
		FROM system.parts
		WHERE database = currentDatabase() AND active AND table IN ? AND partition_id `+p.which+` ?
		GROUP BY table, partition_id
		HAVING parts > ?
		ORDER BY partition_id`, p.tables, now.UTC().Format("200601"), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []partition
	for rows.Next() {
		var s partition
		if err := rows.Scan(&s.table, &s.id, &s.parts); err != nil {
			return nil, errs.Wrap(p.op, errs.KindInternal, err, "")
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b partition) int {
		return cmp.Compare(slices.Index(p.tables, a.table), slices.Index(p.tables, b.table))
	})
	return out, rows.Close()
}

// optimizeSplit runs OPTIMIZE TABLE … PARTITION ID … FINAL on every
// partition splitPartitions lists for p, which leaves the parts that
// existed when it started as one, and logs one line per partition.
func optimizeSplit(ctx context.Context, db *store.DB, p splitPolicy, now time.Time, logger *slog.Logger) error {
	parts, err := splitPartitions(ctx, db, p, p.limit, now)
	if err != nil {
		return err
	}
	for _, s := range parts {
		start := time.Now()
		stmt := "OPTIMIZE TABLE " + store.QuoteIdent(s.table) + " PARTITION ID ? FINAL"
		if err := db.Exec(ctx, stmt, s.id); err != nil {
			return errs.Wrap(p.op, errs.KindOf(err), err, "cannot optimize "+s.table+" partition "+s.id)
		}
		logger.LogAttrs(ctx, slog.LevelInfo, p.logMsg,
			slog.String("table", s.table), slog.String("partition_id", s.id),
			slog.Int64("parts_before", s.parts), slog.Duration("took", time.Since(start)))
	}
	return nil
}

// jobDefaults fills the config fields both jobs share: an empty spec
// becomes defSpec, a nil logger slog.Default() and a nil clock time.Now.
func jobDefaults(spec *string, defSpec string, logger **slog.Logger, now *func() time.Time) {
	if *spec == "" {
		*spec = defSpec
	}
	if *logger == nil {
		*logger = slog.Default()
	}
	if *now == nil {
		*now = time.Now
	}
}
