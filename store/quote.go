package store

import "github.com/learnhub/analytics-service/store/sqltext"

// QuoteIdent quotes a table, column or database name for ClickHouse. It is the
// only way identifiers enter SQL text (see sqltext.QuoteIdent).
func QuoteIdent(name string) string { return sqltext.QuoteIdent(name) }

// QuoteString renders s as a ClickHouse string literal. Use it only where the
// grammar takes no parameter (DDL comments, engine arguments); values in
// queries are `?` arguments.
func QuoteString(s string) string { return sqltext.QuoteString(s) }
