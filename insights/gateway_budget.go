package insights

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/learnhub/analytics-service/platform/errs"
)

// ReasonTokenBudget is the extensions.reason of the RATE_LIMITED error a
// gateway answer fails with once the tenant's daily token budget cannot
// hold its next call.
const ReasonTokenBudget = "AI_TOKEN_BUDGET"

// bytesPerToken is the request bytes counted as one token when a call's
// prompt is estimated before it is sent. Tokenizers of the models we talk
// to average about 4 bytes of English or JSON per token, so 3 errs high.
const bytesPerToken = 3

// reservation is the part of a tenant's daily budget held for one call
// until its real usage is known.
type reservation struct {
	key    string
	tokens int64
}

// estimateTokens is what one call may cost at most: its request (the
// messages and tool definitions) at bytesPerToken, plus max_completion_tokens.
func estimateTokens(req openai.ChatCompletionRequest) int64 {
	b, _ := json.Marshal(req)
	return int64(len(b)/bytesPerToken + 1 + req.MaxCompletionTokens)
}

// complete makes one model call within the tenant's daily budget: it
// reserves the call's estimate first (atomically, on the shared Budget
// when there is one), refuses the call when the reservation would take the
// day's count over the budget, and settles the reservation to the usage
// the gateway reports afterwards. Two concurrent answers of one tenant
// therefore cannot both pass a check and then overshoot.
func (g *Gateway) complete(ctx context.Context, tenant string, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, error) {
	const op = "insights.Gateway"
	r, err := g.reserve(ctx, tenant, estimateTokens(req))
	if err != nil {
		return openai.ChatCompletionResponse{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	res, err := g.client.CreateChatCompletion(cctx, req)
	cancel()
	switch {
	case err != nil:
		g.settle(ctx, r, 0) // nothing was answered, so nothing is counted
		return res, errs.Wrap(op, errs.KindUnavailable, err, "the AI gateway did not answer")
	case res.Usage.TotalTokens > 0:
		g.settle(ctx, r, int64(res.Usage.TotalTokens))
	default:
		// A gateway that reports no usage keeps the whole reservation
		// counted, so its budget still holds.
	}
	return res, nil
}

// reserve adds tokens to the tenant's count of the UTC day unless that
// would exceed the budget. With a shared Budget the add is one INCRBY, so
// replicas see each other's reservations; a reservation that went over is
// taken back and refused. If the Budget cannot be reached the call is
// refused (the budget fails closed).
func (g *Gateway) reserve(ctx context.Context, tenant string, tokens int64) (*reservation, error) {
	const op = "insights.Gateway"
	now := g.cfg.Now().UTC()
	r := &reservation{key: "insights:ai-tokens:" + tenant + ":" + now.Format(time.DateOnly), tokens: tokens}
	budget := int64(g.cfg.DailyTokens)
	var before int64
	if g.cfg.Budget != nil {
		after, err := g.cfg.Budget.IncrBy(ctx, r.key, tokens, budgetTTL)
		if err != nil {
			return nil, errs.Wrap(op, errs.KindUnavailable, err, "the AI token budget cannot be checked; try again or use engine BUILTIN")
		}
		if after <= budget {
			return r, nil
		}
		// Take the reservation back; if that fails too the count stays
		// high, which only refuses more.
		_, _ = g.cfg.Budget.IncrBy(ctx, r.key, -tokens, budgetTTL)
		before = after - tokens
	} else {
		g.mu.Lock()
		before = g.used[r.key]
		if before+tokens <= budget {
			g.used[r.key] = before + tokens
			g.mu.Unlock()
			return r, nil
		}
		g.mu.Unlock()
	}
	e := errs.E(op, errs.KindRateLimited, fmt.Sprintf("daily AI token budget of %d exhausted for this tenant "+
		"(%d used or reserved today, the next model call needs up to %d); resets at 00:00 UTC; ask with engine BUILTIN meanwhile",
		budget, max(before, 0), tokens))
	e.Fields = map[string]any{"reason": ReasonTokenBudget, "budget": budget,
		"resetsAt": now.Truncate(24 * time.Hour).Add(24 * time.Hour).Format(time.RFC3339)}
	return nil, e
}

// settle replaces a reservation by the tokens really used. If the shared
// Budget cannot be reached the reservation stays counted (errs high).
func (g *Gateway) settle(ctx context.Context, r *reservation, used int64) {
	delta := used - r.tokens
	if delta == 0 {
		return
	}
	if g.cfg.Budget != nil {
		_, _ = g.cfg.Budget.IncrBy(ctx, r.key, delta, budgetTTL)
		return
	}
	g.mu.Lock()
	g.used[r.key] += delta
	g.mu.Unlock()
}

// BudgetExhausted reports whether err is a gateway answer refused by the
// tenant's daily token budget: retrying before 00:00 UTC cannot succeed.
func BudgetExhausted(err error) bool {
	var e *errs.Error
	return errors.As(err, &e) && e.Kind == errs.KindRateLimited && e.Fields["reason"] == ReasonTokenBudget
}
