package insights

import "github.com/learnhub/analytics-service/platform/llm"

// ReasonTokenBudget is the extensions.reason of the RATE_LIMITED error a
// gateway answer fails with once the tenant's daily token budget cannot
// hold its next call. The budget is platform/llm's, shared with the
// monitors' reviewer.
const ReasonTokenBudget = llm.ReasonTokenBudget

// BudgetExhausted reports whether err is a gateway answer refused by the
// tenant's daily token budget: retrying before 00:00 UTC cannot succeed.
func BudgetExhausted(err error) bool { return llm.Exhausted(err) }
