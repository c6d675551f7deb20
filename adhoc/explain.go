package adhoc

import (
	"context"
	"regexp"
	"strings"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

var (
	explainTableRe    = regexp.MustCompile(`^\s*TABLE id: \d+.*?table_name: ([^,\s]+)`)
	explainTableFunRe = regexp.MustCompile(`^\s*TABLE_FUNCTION id: \d+.*?table_function_name: ([^,\s]+)`)
)

// checkPlan is the second wall: ClickHouse's own analyzer resolves the
// printed SQL (EXPLAIN QUERY TREE, same arguments and settings) and the
// query is refused when the resolved tree reads a table function or a
// table outside the allow-list. It catches anything the printer's view of
// name resolution missed.
func (s *Service) checkPlan(ctx context.Context, sql string, args []any) error {
	const op = "adhoc.checkPlan"
	db, err := s.currentDatabase(ctx)
	if err != nil {
		return err
	}
	rows, err := s.db.Query(ctx, "EXPLAIN QUERY TREE "+sql, args...)
	if err != nil {
		return s.engineError(op, err)
	}
	defer rows.Close()
	// system.one is the one-row table ClickHouse reads for a SELECT
	// without FROM; it holds no data.
	allowed := map[string]bool{"system.one": true}
	for _, t := range s.tables {
		allowed[db+"."+t.Name] = true
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return errs.Wrap(op, errs.KindInternal, err, "")
		}
		if m := explainTableFunRe.FindStringSubmatch(line); m != nil {
			return errs.E(op, errs.KindInvalid, "the query reads table function "+m[1]+"(), which is not allowed")
		}
		if m := explainTableRe.FindStringSubmatch(line); m != nil && !allowed[m[1]] {
			return errs.E(op, errs.KindInvalid, "the query reads a table outside the allowed ones ("+strings.Join(s.tableNames(), ", ")+")")
		}
	}
	if err := rows.Err(); err != nil {
		return s.engineError(op, err)
	}
	return rows.Close()
}

// currentDatabase is the engine's database of the service's connection,
// which qualifies the table names EXPLAIN prints. Learned once.
func (s *Service) currentDatabase(ctx context.Context) (string, error) {
	s.dbNameMu.Lock()
	defer s.dbNameMu.Unlock()
	if s.dbName != "" {
		return s.dbName, nil
	}
	var name string
	if err := s.db.QueryRow(store.WithSettings(ctx, store.Settings{"readonly": 1}), []any{&name}, "SELECT currentDatabase()"); err != nil {
		return "", err
	}
	s.dbName = name
	return name, nil
}

func (s *Service) tableNames() []string {
	out := make([]string, len(s.tables))
	for i, t := range s.tables {
		out[i] = t.Name
	}
	return out
}
