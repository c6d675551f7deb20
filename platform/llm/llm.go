// Package llm is the one way the service calls a language model: an
// OpenAI-compatible client (ANALYTICS_AI_URL, _API_KEY) whose every call is
// held within the calling tenant's daily token budget. The insights gateway
// and the monitors' reviewer both call through it, so a tenant has one AI
// budget, counted under one key.
//
// The rule it keeps: a call's estimated cost is reserved before the call is
// made and the call is refused when that reservation would take the
// tenant's count of the UTC day over the budget; afterwards the reservation
// is settled to the usage the model reports. Reservations are one atomic
// INCRBY on the shared counter, so concurrent callers on any replica never
// overshoot the budget. A budget that cannot be read refuses (fails closed).
package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv"
)

// Client defaults.
const (
	// DefaultTimeout bounds one model call when Config.Timeout is zero.
	DefaultTimeout = 60 * time.Second
	// DefaultDailyTokens is each tenant's daily token budget when
	// Config.DailyTokens is zero.
	DefaultDailyTokens = 200_000
)

// Config configures a Client from the AI gateway's settings.
type Config struct {
	URL    string // OpenAI-compatible base URL, e.g. https://api.openai.com/v1
	APIKey string
	// HTTPClient is used for the calls; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Timeout bounds one model call; zero means DefaultTimeout.
	Timeout time.Duration
	// DailyTokens is each tenant's token budget per UTC day; zero means
	// DefaultDailyTokens.
	DailyTokens int
	// Counter counts each tenant's tokens per UTC day where every replica
	// and every caller sees them (Redis); nil counts in this Client only.
	Counter kv.Counter
	// Now is the clock of the budget; nil means time.Now.
	Now func() time.Time
	// Op names the calling operation in errors (e.g. "insights.Gateway");
	// empty means "llm.Complete".
	Op string
	// Instead is what a refused caller can use instead of the model (e.g.
	// "engine BUILTIN"); the refusal messages name it. Empty names nothing.
	Instead string
}

// Client makes model calls within the tenants' daily budget.
type Client struct {
	oc      *openai.Client
	budget  *Budget
	timeout time.Duration
	op      string
}

// New returns a client, or nil when cfg.URL is empty (no model configured).
func New(cfg Config) *Client {
	if cfg.URL == "" {
		return nil
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Op == "" {
		cfg.Op = "llm.Complete"
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = strings.TrimRight(cfg.URL, "/")
	if cfg.HTTPClient != nil {
		oc.HTTPClient = cfg.HTTPClient
	}
	return &Client{oc: openai.NewClientWithConfig(oc), budget: NewBudget(cfg), timeout: cfg.Timeout, op: cfg.Op}
}

// Complete makes one model call for tenant within its daily budget: it
// reserves the call's estimate (EstimateTokens) first, refuses with an
// Exhausted error when the budget cannot hold it (or KindUnavailable
// wrapping ErrBudgetUnavailable when the budget cannot be read), and
// settles the reservation to the usage the model reports. A failed call
// counts nothing and is KindUnavailable wrapping the cause (see
// FailureReason); a call whose usage is not reported keeps its whole
// reservation counted, so the budget still holds.
func (c *Client) Complete(ctx context.Context, tenant string, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, error) {
	r, err := c.budget.Reserve(ctx, tenant, EstimateTokens(req))
	if err != nil {
		return openai.ChatCompletionResponse{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	res, err := c.oc.CreateChatCompletion(cctx, req)
	cancel()
	switch {
	case err != nil:
		c.budget.Settle(ctx, r, 0) // nothing was answered, so nothing is counted
		return res, errs.Wrap(c.op, errs.KindUnavailable, err, "the AI gateway did not answer")
	case res.Usage.TotalTokens > 0:
		c.budget.Settle(ctx, r, int64(res.Usage.TotalTokens))
	}
	return res, nil
}

// FailureReason is the public reason a Complete call failed: the budget's
// refusal or why the model did not answer, without the gateway's address
// or key.
func (c *Client) FailureReason(ctx context.Context, err error) string {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case Exhausted(err), errors.Is(err, ErrBudgetUnavailable):
		return errs.PublicMessage(err)
	case ctx.Err() != nil:
		return "the evaluation was cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("timeout: the model did not answer within %s", c.timeout)
	case errors.As(err, &apiErr):
		return fmt.Sprintf("the AI gateway answered HTTP %d", apiErr.HTTPStatusCode)
	case errors.As(err, &reqErr):
		return fmt.Sprintf("the AI gateway answered HTTP %d", reqErr.HTTPStatusCode)
	}
	return "the AI gateway could not be reached"
}
