package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv"
)

const (
	// ReasonTokenBudget is the extensions.reason of the RATE_LIMITED error
	// a call is refused with once the tenant's daily token budget cannot
	// hold it.
	ReasonTokenBudget = "AI_TOKEN_BUDGET"
	// BudgetKeyPrefix prefixes a tenant's daily token counter,
	// "<prefix><tenant>:<YYYY-MM-DD>" (see BudgetKey). It keeps the insights
	// gateway's historic name, so counters already in Redis stay valid.
	BudgetKeyPrefix = "insights:ai-tokens:"
	// budgetTTL keeps a tenant's daily counter past its UTC day.
	budgetTTL = 48 * time.Hour
	// bytesPerToken is the request bytes counted as one token when a
	// call's prompt is estimated before it is sent. Tokenizers of the
	// models we talk to average about 4 bytes of English or JSON per
	// token, so 3 errs high.
	bytesPerToken = 3
)

// ErrBudgetUnavailable is the cause of the KindUnavailable error a call is
// refused with when the budget's counter cannot be reached.
var ErrBudgetUnavailable = errors.New("llm: the token budget counter is unavailable")

// Budget is the tenants' daily token budget: reservations before a call,
// settled to the real usage after it.
type Budget struct {
	counter kv.Counter
	daily   int64
	now     func() time.Time
	op      string
	instead string
	mu      sync.Mutex
	used    map[string]int64 // budget key → tokens, without a shared counter
}

// Reservation is the part of a tenant's daily budget held for one call
// until its real usage is known.
type Reservation struct {
	key    string
	tokens int64
}

// NewBudget returns the budget of cfg (Counter, DailyTokens, Now, Op,
// Instead; the same defaults as New).
func NewBudget(cfg Config) *Budget {
	if cfg.DailyTokens == 0 {
		cfg.DailyTokens = DefaultDailyTokens
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Op == "" {
		cfg.Op = "llm.Complete"
	}
	return &Budget{counter: cfg.Counter, daily: int64(cfg.DailyTokens), now: cfg.Now, op: cfg.Op, instead: cfg.Instead,
		used: map[string]int64{}}
}

// BudgetKey is the counter key of tenant's budget on day's UTC date.
func BudgetKey(tenant string, day time.Time) string {
	return BudgetKeyPrefix + tenant + ":" + day.UTC().Format(time.DateOnly)
}

// EstimateTokens is what one call may cost at most: its request (the
// messages and tool definitions) at bytesPerToken, plus its
// max_completion_tokens. A request without max_completion_tokens is
// estimated by its prompt only, so callers should always set it.
func EstimateTokens(req openai.ChatCompletionRequest) int64 {
	b, _ := json.Marshal(req)
	return int64(len(b)/bytesPerToken + 1 + req.MaxCompletionTokens)
}

// Reserve adds tokens to tenant's count of the UTC day unless that would
// exceed the budget. With a shared counter the add is one INCRBY, so
// replicas and callers see each other's reservations; a reservation that
// went over is taken back and refused with an Exhausted error. If the
// counter cannot be reached the call is refused (the budget fails closed).
func (b *Budget) Reserve(ctx context.Context, tenant string, tokens int64) (*Reservation, error) {
	now := b.now().UTC()
	r := &Reservation{key: BudgetKey(tenant, now), tokens: tokens}
	var before int64
	if b.counter != nil {
		after, err := b.counter.IncrBy(ctx, r.key, tokens, budgetTTL)
		if err != nil {
			msg := "the AI token budget cannot be checked; try again"
			if b.instead != "" {
				msg += " or use " + b.instead
			}
			return nil, errs.Wrap(b.op, errs.KindUnavailable, fmt.Errorf("%w: %w", ErrBudgetUnavailable, err), msg)
		}
		if after <= b.daily {
			return r, nil
		}
		// Take the reservation back; if that fails too the count stays
		// high, which only refuses more.
		_, _ = b.counter.IncrBy(ctx, r.key, -tokens, budgetTTL)
		before = after - tokens
	} else {
		b.mu.Lock()
		before = b.used[r.key]
		if before+tokens <= b.daily {
			b.used[r.key] = before + tokens
			b.mu.Unlock()
			return r, nil
		}
		b.mu.Unlock()
	}
	msg := fmt.Sprintf("daily AI token budget of %d exhausted for this tenant "+
		"(%d used or reserved today, the next model call needs up to %d); resets at 00:00 UTC", b.daily, max(before, 0), tokens)
	if b.instead != "" {
		msg += "; ask with " + b.instead + " meanwhile"
	}
	e := errs.E(b.op, errs.KindRateLimited, msg)
	e.Fields = map[string]any{"reason": ReasonTokenBudget, "budget": b.daily,
		"resetsAt": now.Truncate(24 * time.Hour).Add(24 * time.Hour).Format(time.RFC3339)}
	return nil, e
}

// Settle replaces a reservation by the tokens really used. If the shared
// counter cannot be reached the reservation stays counted (errs high).
func (b *Budget) Settle(ctx context.Context, r *Reservation, used int64) {
	delta := used - r.tokens
	if delta == 0 {
		return
	}
	if b.counter != nil {
		_, _ = b.counter.IncrBy(ctx, r.key, delta, budgetTTL)
		return
	}
	b.mu.Lock()
	b.used[r.key] += delta
	b.mu.Unlock()
}

// Exhausted reports whether err is a call refused by the tenant's daily
// token budget: retrying before 00:00 UTC cannot succeed.
func Exhausted(err error) bool {
	var e *errs.Error
	return errors.As(err, &e) && e.Kind == errs.KindRateLimited && e.Fields["reason"] == ReasonTokenBudget
}
