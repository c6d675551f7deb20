package adhoc

// Table is a table tenant SQL may read, with the column that holds the
// tenant. Every reference to it is printed as a guarded derived table:
// (SELECT * FROM `name` [FINAL] WHERE `tenant_column` = ?).
type Table struct {
	Name         string
	TenantColumn string
	// Final reads the table with FINAL (ReplacingMergeTree tables whose
	// duplicates must not count twice).
	Final bool
}

// DefaultTables is the allow-list of tables: one line per table. Cohort
// membership and rollups join here when their migrations land.
func DefaultTables() []Table {
	return []Table{
		{Name: "events", TenantColumn: "tenant_id", Final: true},
	}
}
