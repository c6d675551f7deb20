// Package membership prints the SQL condition "the row's user is in a
// cohort". It stands apart from package cohorts so that metrics (which
// cohorts builds on) can filter and break down by cohort without an import
// cycle.
package membership

import "github.com/learnhub/analytics-service/store"

// Filter is a condition on an events row (or any row with a user_id
// column) that holds when the user is in the latest good evaluation of the
// cohort: user_id IN (…cohort_users of that version…), guarded by the
// scope's tenant, with its arguments in order. A cohort never evaluated
// (or only with errors) has no members. The cohort id is bound, so an id
// of another tenant simply matches nobody.
func Filter(scope store.Scope, cohortID string) (sqlFragment string, args []any) {
	guard, tenant := scope.Predicate("")
	sql := "user_id IN (SELECT user_id FROM " + store.QuoteIdent("cohort_users") + " WHERE " + guard +
		" AND cohort_id = ? AND version = (SELECT max(version) FROM " + store.QuoteIdent("cohort_evaluations") +
		" FINAL WHERE " + guard + " AND cohort_id = ? AND error = ''))"
	return sql, []any{tenant, cohortID, tenant, cohortID}
}
