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
	// JSONColumn is the JSON column whose PII paths the PII-free relation
	// removes ("" when none).
	JSONColumn string
	// TextColumns are the String columns the PII-free relation replaces by
	// pseudonyms when a PII key names them.
	TextColumns []string
}

// DefaultTables is the allow-list of tables: one line per table. Cohort
// membership and rollups join here when their migrations land.
func DefaultTables() []Table {
	return []Table{
		{Name: "events", TenantColumn: "tenant_id", Final: true, JSONColumn: "properties",
			TextColumns: []string{"event_id", "type", "user_id", "session_id"}},
	}
}
