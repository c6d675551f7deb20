package insights

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/watch"
	"github.com/learnhub/analytics-service/store"
)

// Engine names of askInsight.
const (
	EngineNameBuiltin = "BUILTIN"
	EngineNameGateway = "GATEWAY"
)

// Defaults for Config.
const (
	DefaultWatchInterval = 250 * time.Millisecond
	DefaultTimeout       = 2 * time.Minute
	// MaxCommentLength bounds a rating's comment (characters).
	MaxCommentLength = 2000
)

// QueueInsights is the Asynq queue insight tasks wait in.
const QueueInsights = "insights"

// KindAnswer is the task kind that answers one insight.
const KindAnswer = "insights:answer"

// ErrGatewayUnavailable is askInsight's answer when the AI gateway is asked
// for but not configured.
var ErrGatewayUnavailable = errs.E("insights.Ask", errs.KindUnavailable,
	"the AI gateway is not available on this server (ANALYTICS_AI_URL is not set); ask with engine BUILTIN, the built-in analyst")

// Enqueuer queues background tasks (*queue.Client, jobstest.Recorder).
type Enqueuer interface {
	Enqueue(ctx context.Context, t jobs.Task) (jobs.Receipt, error)
}

// Config shapes the service; zero values mean the defaults above.
type Config struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// WatchInterval is how often insightProgress polls the stored row;
	// zero means DefaultWatchInterval.
	WatchInterval time.Duration
	// Timeout bounds one answer; zero means DefaultTimeout.
	Timeout time.Duration
	// Gateway answers askInsight(engine: GATEWAY); nil (ANALYTICS_AI_URL
	// unset) makes that ErrGatewayUnavailable.
	Gateway *Gateway
	// Bus announces finished insights (analytics.insight.completed.v1);
	// nil publishes nothing.
	Bus Publisher
}

// Service asks, answers, lists and rates insights.
type Service struct {
	repo    repo
	analyst *Analyst
	jobs    Enqueuer
	cfg     Config
}

// NewService returns a Service storing in db, answering with the built-in
// analyst over tools and queueing on q.
func NewService(db *store.DB, tools *Tools, q Enqueuer, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.WatchInterval == 0 {
		cfg.WatchInterval = DefaultWatchInterval
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Service{repo: repo{db: db, now: cfg.Now}, analyst: NewAnalyst(tools), jobs: q, cfg: cfg}
}

// answerParams are the task's input: the insight and the asking user, so
// the tools run with that user's tenant and roles.
type answerParams struct {
	ID      string      `json:"id"`
	Subject string      `json:"subject"`
	Roles   []auth.Role `json:"roles"`
}

// Ask stores a QUEUED insight for the caller and queues its answer.
// engine is EngineNameBuiltin (or empty); EngineNameGateway is
// ErrGatewayUnavailable.
func (s *Service) Ask(ctx context.Context, question string, qc Context, engine string) (*Insight, error) {
	const op = "insights.Ask"
	p, err := auth.Require(ctx, auth.RoleViewer)
	if err != nil {
		return nil, err
	}
	question = strings.TrimSpace(question)
	switch {
	case question == "":
		return nil, errs.Invalid(op, "question", "question is empty; ask e.g. \"Why did course completions drop in March?\"")
	case utf8.RuneCountInString(question) > MaxQuestionLength:
		return nil, errs.Invalid(op, "question", fmt.Sprintf("question has %d characters; at most %d", utf8.RuneCountInString(question), MaxQuestionLength))
	case engine == EngineNameGateway && s.cfg.Gateway == nil:
		return nil, ErrGatewayUnavailable
	case engine != "" && engine != EngineNameBuiltin && engine != EngineNameGateway:
		return nil, errs.Invalid(op, "engine", fmt.Sprintf("engine %q is unknown; use BUILTIN", engine))
	}
	if (qc.From == nil) != (qc.To == nil) || qc.From != nil && !qc.From.Before(*qc.To) {
		return nil, errs.Invalid(op, "context.timeRange", "context.timeRange needs from before to (absolute times)")
	}
	now := s.cfg.Now().UTC().Truncate(time.Millisecond)
	in := &Insight{ID: uuid.NewString(), Tenant: p.Tenant, Question: question, Context: qc, Engine: EngineBuiltin,
		Status: StatusQueued, AskedBy: p.Subject, Steps: []Step{}, CreatedAt: now}
	if engine == EngineNameGateway {
		in.Engine = s.cfg.Gateway.cfg.Model
	}
	if err := s.repo.save(ctx, in); err != nil {
		return nil, err
	}
	if _, err := s.jobs.Enqueue(ctx, s.task(in, p)); err != nil {
		return nil, err
	}
	return in, nil
}

func (s *Service) task(in *Insight, p auth.Principal) jobs.Task {
	return jobs.Task{Kind: KindAnswer, Tenant: in.Tenant, Queue: QueueInsights, MaxRetry: 2, Timeout: s.cfg.Timeout + time.Minute,
		Params: answerParams{ID: in.ID, Subject: p.Subject, Roles: p.Roles}}
}

// Get returns one insight of the caller's tenant.
func (s *Service) Get(ctx context.Context, id string) (*Insight, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.repo.get(ctx, scope, id)
}

// List pages the caller's tenant's insights, newest first.
func (s *Service) List(ctx context.Context, first int, after string) (*Page, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	if first < 1 || first > 100 {
		return nil, errs.Invalid("insights.List", "first", fmt.Sprintf("first %d must be between 1 and 100", first))
	}
	return s.repo.page(ctx, scope, first, after)
}

// Rate records the caller's rating of an insight of their tenant (a second
// rating by the same user replaces the first).
func (s *Service) Rate(ctx context.Context, id string, useful bool, comment string) (*Rating, error) {
	const op = "insights.Rate"
	p, err := auth.Require(ctx, auth.RoleViewer)
	if err != nil {
		return nil, err
	}
	if n := utf8.RuneCountInString(comment); n > MaxCommentLength {
		return nil, errs.Invalid(op, "comment", fmt.Sprintf("comment has %d characters; at most %d", n, MaxCommentLength))
	}
	in, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.Status.Active() {
		return nil, errs.E(op, errs.KindConflict, "insight "+id+" is still "+string(in.Status)+"; rate it once it has an answer")
	}
	rt := Rating{InsightID: id, RatedBy: p.Subject, Useful: useful, Comment: comment, RatedAt: s.cfg.Now().UTC().Truncate(time.Millisecond)}
	if err := s.repo.rate(ctx, p.Tenant, rt); err != nil {
		return nil, err
	}
	return &rt, nil
}

// evalRecord is one line of the evaluation set.
type evalRecord struct {
	InsightID      string          `json:"insightId"`
	Question       string          `json:"question"`
	Context        Context         `json:"context"`
	Engine         string          `json:"engine"`
	PromptVersion  string          `json:"promptVersion"`
	Status         Status          `json:"status"`
	Interpretation *Interpretation `json:"interpretation,omitempty"`
	Explanation    string          `json:"explanation,omitempty"`
	Grounding      string          `json:"grounding,omitempty"`
	Confidence     float64         `json:"confidence"`
	Useful         bool            `json:"useful"`
	Comment        string          `json:"comment,omitempty"`
	RatedBy        string          `json:"ratedBy"`
	RatedAt        time.Time       `json:"ratedAt"`
}

// EvalSet exports the caller's tenant's rated insights as JSONL (one
// rating per line, oldest first) for prompt evaluation.
func (s *Service) EvalSet(ctx context.Context) (string, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return "", err
	}
	ratings, err := s.repo.ratings(ctx, scope)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, rt := range ratings {
		in, err := s.repo.get(ctx, scope, rt.InsightID)
		if err != nil {
			return "", err
		}
		rec := evalRecord{InsightID: in.ID, Question: in.Question, Context: in.Context, Engine: in.Engine, Status: in.Status,
			Useful: rt.Useful, Comment: rt.Comment, RatedBy: rt.RatedBy, RatedAt: rt.RatedAt}
		if a := in.Answer; a != nil {
			rec.PromptVersion, rec.Interpretation, rec.Explanation = a.Provenance.PromptVersion, &a.Interpretation, a.Explanation
			rec.Grounding, rec.Confidence = a.Grounding.Status, a.Confidence.Score
		}
		if err := enc.Encode(rec); err != nil {
			return "", errs.Wrap("insights.EvalSet", errs.KindInternal, err, "")
		}
	}
	return buf.String(), nil
}

// Watch follows an insight of the caller's tenant for insightProgress: it
// sends the insight now and again whenever its stored version changes (a
// new step, a new status), and closes after a final status or when ctx
// ends. An unknown insight (or another tenant's) is the error, before any send.
func (s *Service) Watch(ctx context.Context, id string) (<-chan Insight, error) {
	in, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return watch.Follow(ctx, s.cfg.WatchInterval, *in, func(ctx context.Context) (Insight, error) {
		next, err := s.Get(ctx, id)
		if err != nil {
			return Insight{}, err
		}
		return *next, nil
	}), nil
}

// StoredVersion and Final let watch.Follow follow an insight.
func (in Insight) StoredVersion() uint64 { return in.Version }
func (in Insight) Final() bool           { return !in.Status.Active() }

// Jobs declares the answer handler.
func (s *Service) Jobs() []jobs.Registration {
	return []jobs.Registration{{Kind: KindAnswer, Handler: jobs.HandlerFunc(s.process)}}
}

// process answers one insight as the user who asked. It is idempotent: an
// insight that is already final is left alone but announced again (the
// event's Nats-Msg-Id dedups it, so a crash between the final save and the
// publish still announces it exactly once); a rerun after a crash before
// the final save answers again from the start (the answer is a function
// of the data).
func (s *Service) process(ctx context.Context, j jobs.Job) error {
	var p answerParams
	if err := j.Decode(&p); err != nil {
		return err
	}
	ctx = auth.WithPrincipal(ctx, auth.Principal{Subject: p.Subject, Tenant: j.Tenant, Roles: p.Roles})
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return err
	}
	in, err := s.repo.get(ctx, scope, p.ID)
	if err != nil {
		return err
	}
	if !in.Status.Active() {
		return s.announce(ctx, in)
	}
	started := s.cfg.Now().UTC().Truncate(time.Millisecond)
	in.Status, in.StartedAt, in.Steps = StatusRunning, &started, []Step{}
	if err := s.repo.save(ctx, in); err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	onStep := func(st Step) {
		in.Steps = append(in.Steps, st)
		_ = s.repo.save(ctx, in) // progress is best effort; the final save below must succeed
	}
	var ans *Answer
	if in.Engine != EngineBuiltin && s.cfg.Gateway != nil {
		ans, err = s.cfg.Gateway.Answer(actx, s.analyst.tools, in.Question, in.Context, onStep)
	} else {
		ans, err = s.analyst.Answer(actx, in.Question, in.Context, onStep)
	}
	done := s.cfg.Now().UTC().Truncate(time.Millisecond)
	if err != nil {
		if !errs.Is(err, errs.KindInvalid) && !errs.Is(err, errs.KindForbidden) && !BudgetExhausted(err) && j.Retried < j.MaxRetry {
			return err
		}
		in.Status, in.Error, in.FinishedAt = StatusFailed, errs.PublicMessage(err), &done
		in.Steps = append(in.Steps, Step{At: done, Kind: "error", Message: in.Error})
		if err := s.repo.save(ctx, in); err != nil {
			return err
		}
		return s.announce(ctx, in)
	}
	in.Status, in.Answer, in.FinishedAt = StatusSucceeded, ans, &done
	in.Steps = append(in.Steps, Step{At: done, Kind: "done", Message: ans.Grounding.Status + ", confidence " + ans.Confidence.Level})
	if err := s.repo.save(ctx, in); err != nil {
		return err
	}
	return s.announce(ctx, in)
}
