package alerts

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// Defaults for the zero values of Config and Input.
const (
	DefaultRepeatInterval = 24 * time.Hour
	DefaultMaxRules       = 200 // per tenant
	DefaultNotifyMaxRetry = 6
	DefaultNotifyTimeout  = 2 * time.Minute
	DefaultHistoryLimit   = 500
	MaxHistoryLimit       = 5000
	// TickSpec fires the evaluation tick every five minutes; a rule is
	// evaluated once per completed bucket of its grain, so an hourly rule
	// runs at most a few minutes after its hour ended.
	TickSpec = "*/5 * * * *"
	// DefaultThreshold is the confidence a default key-metric rule fires
	// above. The confidence of a monitor bucket is its score where the
	// monitor flags it (at its sensitivity: a score of 0.5 to 0.7 or more)
	// and 0 elsewhere (monitors.Score.AnomalyConfidence), so the default
	// rule fires on the buckets its monitor flags: admins tune it through
	// the monitor's sensitivity.
	DefaultThreshold = 0.5
	// DefaultRulePrefix starts the id of a key-metric default rule; the
	// rest is the metric key (its monitor is key:<metric key>).
	DefaultRulePrefix = "default:"
	// DefaultRuleGrain is the grain of the default rules: daily, whatever
	// the metric's own grain (an hourly monitor's worst hour counts).
	DefaultRuleGrain = timerange.GrainDay
	// KeyMonitorPrefix starts the id of a key-metric default monitor.
	KeyMonitorPrefix = "key:"
)

// Limits of a rule.
const (
	MaxNameLen    = 200
	MaxChannels   = 10
	MaxRecipients = 20
	MinSecretLen  = 16
	MaxDuration   = 30 * 24 * time.Hour
)

// Audit actions.
const (
	ActionCreate   = "alert_rule.create"
	ActionUpdate   = "alert_rule.update"
	ActionDelete   = "alert_rule.delete"
	ActionChannels = "alert_channels.update"
)

// ruleGrains are the grains a rule may evaluate.
var ruleGrains = []metrics.Grain{timerange.GrainHour, timerange.GrainDay, timerange.GrainWeek, timerange.GrainMonth}

// Enqueuer enqueues background tasks (*queue.Client).
type Enqueuer interface {
	Enqueue(ctx context.Context, t jobs.Task) (jobs.Receipt, error)
}

// Publisher publishes outgoing events with dedup (*bus.Bus).
type Publisher interface {
	Publish(ctx context.Context, subject string, v any, msgID string) error
}

// Mailer sends one message (*reports.SMTPMailer).
type Mailer interface {
	Send(ctx context.Context, to []string, msg []byte) error
}

// Webhooks checks and posts signed webhooks under the SSRF rules of the
// report webhooks (*reports.Webhooks).
type Webhooks interface {
	CheckURL(ctx context.Context, raw string) error
	Post(ctx context.Context, url, secret, event, deliveryID string, body []byte) error
}

// Deps are the Service's collaborators. DB is required; the worker needs
// Jobs and Bus; Metrics evaluates THRESHOLD and RELATIVE_CHANGE rules,
// Anomalies ANOMALY rules (without it those rules evaluate as ERROR and the
// default rules are not evaluated); Mailer and Webhooks deliver
// notifications (channels of a kind without its sender are refused).
type Deps struct {
	DB        *store.DB
	Jobs      Enqueuer
	Bus       Publisher
	Metrics   MetricQuerier
	Anomalies AnomalySource
	Mailer    Mailer
	Webhooks  Webhooks
}

// Config tunes the Service. Zero values mean the defaults above.
type Config struct {
	// MaxRules caps a tenant's stored rules; zero means DefaultMaxRules.
	MaxRules int
	// NotifyMaxRetry is how often a failed notification is retried; zero
	// means DefaultNotifyMaxRetry.
	NotifyMaxRetry int
	// TickSpec is the cron spec of the evaluation tick (UTC); empty means
	// TickSpec (every five minutes).
	TickSpec string
	// Queue is the Asynq queue of ticks and notifications; empty means
	// jobs.QueueDefault.
	Queue string
	// Logger receives the tick's lines; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	c.MaxRules = cmp.Or(c.MaxRules, DefaultMaxRules)
	c.NotifyMaxRetry = cmp.Or(c.NotifyMaxRetry, DefaultNotifyMaxRetry)
	c.Queue = cmp.Or(c.Queue, jobs.QueueDefault)
	c.TickSpec = cmp.Or(c.TickSpec, TickSpec)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Service is the alerts domain: rules, evaluation, history, notifications.
// Safe for concurrent use.
type Service struct {
	deps Deps
	cfg  Config
	repo repo
}

// NewService returns a Service; DB is required.
func NewService(d Deps, cfg Config) (*Service, error) {
	if d.DB == nil {
		return nil, errs.E("alerts.NewService", errs.KindInternal, "alerts need a DB")
	}
	cfg = cfg.withDefaults()
	return &Service{deps: d, cfg: cfg, repo: repo{db: d.DB, now: cfg.Now}}, nil
}

// DefaultRules are the key-metric rules every tenant has without creating
// them: an ANOMALY rule on monitor key:<metric> per key metric of the
// catalog, evaluated daily at confidence > DefaultThreshold, notifying the
// tenant's admins. Admins tune one by updating it
// (it is then stored) and switch it off by disabling or deleting it.
func DefaultRules(tenant string) []*Rule {
	var out []*Rule
	for _, m := range metrics.Catalog() {
		if !m.KeyMetric {
			continue
		}
		out = append(out, &Rule{ID: DefaultRulePrefix + m.Key, Tenant: tenant, Default: true, Virtual: true, Owner: "system",
			Input: Input{Name: "Anomaly in " + m.Name, Kind: KindAnomaly, MetricKey: m.Key, Grain: DefaultRuleGrain,
				MonitorID: KeyMonitorPrefix + m.Key, Threshold: DefaultThreshold, ScoreField: FieldConfidence,
				NotifyAdmins: true, Enabled: true}})
	}
	return out
}

// Create validates in and stores a rule of the caller's tenant.
func (s *Service) Create(ctx context.Context, in Input) (*Rule, error) {
	const op = "alerts.Create"
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.validate(ctx, op, &in); err != nil {
		return nil, err
	}
	stored, err := s.repo.rules(ctx, scope, "")
	if err != nil {
		return nil, err
	}
	if len(stored) >= s.cfg.MaxRules {
		return nil, errs.Invalid(op, "input", fmt.Sprintf("the tenant has the maximum of %d alert rules; delete one first", s.cfg.MaxRules))
	}
	p, _ := auth.PrincipalFrom(ctx)
	rule := &Rule{ID: uuid.NewString(), Tenant: scope.Tenant(), Input: in, Owner: p.Subject, CreatedAt: s.now()}
	if err := s.repo.saveRule(ctx, rule, false); err != nil {
		return nil, err
	}
	return rule, s.repo.audit(ctx, ActionCreate, nil, rule)
}

// Update replaces a rule's definition; expectedVersion must be the current
// one (0 for a default rule never tuned). A webhook channel given without a
// secret keeps the secret stored for the same URL.
func (s *Service) Update(ctx context.Context, id string, expectedVersion uint64, in Input) (*Rule, error) {
	const op = "alerts.Update"
	before, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if before.Version != expectedVersion {
		return nil, errs.E(op, errs.KindConflict, fmt.Sprintf("rule %q is at version %d, not %d; reload and retry", id, before.Version, expectedVersion)).
			With("currentVersion", before.Version)
	}
	keepSecrets(before.Channels, in.Channels)
	if err := s.validate(ctx, op, &in); err != nil {
		return nil, err
	}
	if before.Default && (in.Kind != KindAnomaly || in.MonitorID != before.MonitorID) {
		return nil, errs.Invalid(op, "input.kind", "a default key-metric rule stays an ANOMALY rule on its monitor "+before.MonitorID+"; create a new rule for anything else")
	}
	after := *before
	after.Input, after.Virtual = in, false
	if after.CreatedAt.IsZero() {
		after.CreatedAt = s.now()
	}
	if err := s.repo.saveRule(ctx, &after, false); err != nil {
		return nil, err
	}
	return &after, s.repo.audit(ctx, ActionUpdate, before, &after)
}

// Delete removes a rule; a default rule is switched off instead (it would
// otherwise come back as its virtual default).
func (s *Service) Delete(ctx context.Context, id string, expectedVersion uint64) error {
	const op = "alerts.Delete"
	before, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if before.Version != expectedVersion {
		return errs.E(op, errs.KindConflict, fmt.Sprintf("rule %q is at version %d, not %d; reload and retry", id, before.Version, expectedVersion)).
			With("currentVersion", before.Version)
	}
	after := *before
	after.Virtual = false
	if after.CreatedAt.IsZero() {
		after.CreatedAt = s.now()
	}
	after.Enabled = false
	if err := s.repo.saveRule(ctx, &after, !before.Default); err != nil {
		return err
	}
	return s.repo.audit(ctx, ActionDelete, before, &after)
}

// Get returns one rule of the caller's tenant (stored or virtual default);
// missing is KindNotFound.
func (s *Service) Get(ctx context.Context, id string) (*Rule, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	all, err := s.rulesOf(ctx, scope)
	if err != nil {
		return nil, err
	}
	for _, r := range all {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, errs.E("alerts.Get", errs.KindNotFound, "alert rule "+strconv.Quote(id)+" not found").With("field", "id")
}

// List returns the caller's rules: the default key-metric rules first, then
// the stored rules oldest first.
func (s *Service) List(ctx context.Context) ([]*Rule, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.rulesOf(ctx, scope)
}

// rulesOf merges the tenant's stored rules over its virtual defaults.
func (s *Service) rulesOf(ctx context.Context, scope store.Scope) ([]*Rule, error) {
	stored, err := s.repo.rules(ctx, scope, "")
	if err != nil {
		return nil, err
	}
	byID := map[string]*Rule{}
	for _, r := range stored {
		byID[r.ID] = r
	}
	var out []*Rule
	for _, d := range DefaultRules(scope.Tenant()) {
		if r, ok := byID[d.ID]; ok {
			out = append(out, r)
			delete(byID, d.ID)
			continue
		}
		out = append(out, d)
	}
	for _, r := range stored {
		if _, ok := byID[r.ID]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// Channels returns where the caller's admins receive alert notifications.
func (s *Service) Channels(ctx context.Context) (*ChannelSettings, error) {
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.repo.channels(ctx, scope)
}

// SetChannels replaces the tenant's admin alert channels: the emails and
// the signed webhook every rule with NotifyAdmins (every default rule)
// notifies. An empty secret keeps the stored one for the same URL.
func (s *Service) SetChannels(ctx context.Context, emails []string, webhookURL, secret string) (*ChannelSettings, error) {
	const op = "alerts.SetChannels"
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	cur, err := s.repo.channels(ctx, scope)
	if err != nil {
		return nil, err
	}
	if secret == "" && webhookURL == cur.WebhookURL {
		secret = cur.WebhookSecret
	}
	var chans []Channel
	if len(emails) > 0 {
		chans = append(chans, Channel{Kind: ChannelEmail, To: emails})
	}
	if webhookURL != "" {
		chans = append(chans, Channel{Kind: ChannelWebhook, URL: webhookURL, Secret: secret})
	}
	if err := s.validateChannels(ctx, op, "input", chans); err != nil {
		return nil, err
	}
	next := &ChannelSettings{Tenant: scope.Tenant(), Emails: nonNilSlice(emails), WebhookURL: webhookURL, WebhookSecret: secret, Version: cur.Version}
	if webhookURL == "" {
		next.WebhookSecret = ""
	}
	if err := s.repo.saveChannels(ctx, next); err != nil {
		return nil, err
	}
	return next, nil
}

// History lists the caller's evaluations, newest bucket first.
func (s *Service) History(ctx context.Context, f HistoryFilter) ([]HistoryEntry, error) {
	const op = "alerts.History"
	scope, err := store.ScopeFrom(ctx)
	if err != nil {
		return nil, err
	}
	if f.Limit == 0 {
		f.Limit = DefaultHistoryLimit
	}
	if f.Limit < 0 || f.Limit > MaxHistoryLimit {
		return nil, errs.Invalid(op, "first", fmt.Sprintf("first must be between 1 and %d", MaxHistoryLimit))
	}
	if !f.To.After(f.From) {
		return nil, errs.Invalid(op, "timeRange", "timeRange must end after it starts")
	}
	return s.repo.history(ctx, scope, f)
}

// validate checks in and fills its defaults; errors name the field.
func (s *Service) validate(ctx context.Context, op string, in *Input) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > MaxNameLen {
		return errs.Invalid(op, "input.name", fmt.Sprintf("name must have 1 to %d characters", MaxNameLen))
	}
	if !slices.Contains(ruleGrains, in.Grain) {
		return errs.Invalid(op, "input.grain", fmt.Sprintf("grain %q cannot be evaluated; use one of %v", in.Grain, ruleGrains))
	}
	switch in.Kind {
	case KindThreshold, KindRelativeChange:
		if in.Comparator != Above && in.Comparator != Below {
			return errs.Invalid(op, "input.comparator", fmt.Sprintf("comparator %q is not known; use ABOVE or BELOW", in.Comparator))
		}
		if in.MonitorID != "" {
			return errs.Invalid(op, "input.monitorId", "monitorId is for ANOMALY rules only")
		}
		if s.deps.Metrics == nil {
			return errs.E(op, errs.KindUnavailable, "metric queries are not available on this server")
		}
		// The rule's query over its latest bucket: an unknown metric, filter
		// or dimension is refused now, not at the first evaluation.
		if _, err := s.deps.Metrics.Query(ctx, ruleRequest(in, s.cfg.Now().UTC())); err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return errs.Invalid(op, "input.metricKey", fmt.Sprintf("metric %q is not known to this tenant; use the key of one of its metrics", in.MetricKey))
			}
			if errs.Is(err, errs.KindInvalid) {
				return inputField(op, err)
			}
			return err
		}
	case KindAnomaly:
		if in.MonitorID == "" {
			return errs.Invalid(op, "input.monitorId", "an ANOMALY rule needs the monitorId whose scores it reads")
		}
		if in.ScoreField == "" {
			in.ScoreField = FieldConfidence
		}
		if in.ScoreField != FieldConfidence && in.ScoreField != FieldScore {
			return errs.Invalid(op, "input.scoreField", "scoreField must be CONFIDENCE or SCORE")
		}
		if in.Threshold <= 0 || in.Threshold >= 1 {
			return errs.Invalid(op, "input.threshold", "an ANOMALY rule's threshold is a confidence (or score) between 0 and 1, exclusive, e.g. 0.9")
		}
		in.Comparator = Above
	default:
		return errs.Invalid(op, "input.kind", fmt.Sprintf("kind %q is not known; use THRESHOLD, RELATIVE_CHANGE or ANOMALY", in.Kind))
	}
	if in.MetricKey == "" {
		return errs.Invalid(op, "input.metricKey", "metricKey is required")
	}
	for field, d := range map[string]time.Duration{"input.for": in.For, "input.keepFiringFor": in.KeepFiringFor, "input.repeatInterval": in.RepeatInterval} {
		if d < 0 || d > MaxDuration {
			return errs.Invalid(op, field, fmt.Sprintf("%s must be between 0s and %s", strings.TrimPrefix(field, "input."), MaxDuration))
		}
	}
	if in.NoData == "" {
		in.NoData = TreatAsNoData
	}
	if in.OnError == "" {
		in.OnError = TreatAsError
	}
	if !slices.Contains([]Treatment{TreatAsNoData, TreatAlerting, TreatOK, TreatKeepLast}, in.NoData) {
		return errs.Invalid(op, "input.noData", "noData must be NO_DATA, ALERTING, OK or KEEP_LAST")
	}
	if !slices.Contains([]Treatment{TreatAsError, TreatAlerting, TreatOK, TreatKeepLast}, in.OnError) {
		return errs.Invalid(op, "input.onError", "onError must be ERROR, ALERTING, OK or KEEP_LAST")
	}
	return s.validateChannels(ctx, op, "input.channels", in.Channels)
}

func (s *Service) validateChannels(ctx context.Context, op, base string, cs []Channel) error {
	if len(cs) > MaxChannels {
		return errs.Invalid(op, base, fmt.Sprintf("at most %d channels", MaxChannels))
	}
	for i, c := range cs {
		field := fmt.Sprintf("%s[%d]", base, i)
		switch c.Kind {
		case ChannelEmail:
			if s.deps.Mailer == nil {
				return errs.Invalid(op, field, "email is not configured on this server (ANALYTICS_SMTP_ADDR); use a webhook")
			}
			if len(c.To) == 0 || len(c.To) > MaxRecipients {
				return errs.Invalid(op, field+".to", fmt.Sprintf("%s.to needs 1 to %d addresses", field, MaxRecipients))
			}
			for j, a := range c.To {
				if addr, err := mail.ParseAddress(a); err != nil || addr.Address != a {
					return errs.Invalid(op, fmt.Sprintf("%s.to[%d]", field, j), fmt.Sprintf("%q is not a plain email address such as ops@example.com", a))
				}
			}
		case ChannelWebhook:
			if s.deps.Webhooks == nil {
				return errs.Invalid(op, field, "webhooks are not configured on this server")
			}
			if len(c.Secret) < MinSecretLen {
				return errs.Invalid(op, field+".secret", fmt.Sprintf("%s.secret must have at least %d characters (it keys the body's HMAC-SHA256 signature)", field, MinSecretLen))
			}
			if err := s.deps.Webhooks.CheckURL(ctx, c.URL); err != nil {
				if !errs.Is(err, errs.KindInvalid) {
					return err
				}
				return errs.Invalid(op, field+".url", fmt.Sprintf("%s.url: %s", field, errs.PublicMessage(err)))
			}
		default:
			return errs.Invalid(op, field+".kind", fmt.Sprintf("%s.kind %q is not known; use EMAIL or WEBHOOK", field, c.Kind))
		}
	}
	return nil
}

// inputField prefixes the field of a metric query error with "input.".
func inputField(op string, err error) error {
	field, _ := errs.PublicFields(err)["field"].(string)
	if field == "" {
		field = "metricKey"
	}
	return errs.Invalid(op, "input."+field, errs.PublicMessage(err))
}

// keepSecrets copies stored webhook secrets into channels given without
// one for the same URL.
func keepSecrets(stored, next []Channel) {
	for i := range next {
		if next[i].Kind != ChannelWebhook || next[i].Secret != "" {
			continue
		}
		for _, c := range stored {
			if c.Kind == ChannelWebhook && c.URL == next[i].URL {
				next[i].Secret = c.Secret
			}
		}
	}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// Snooze mutes a rule's notifications until until (nil unmutes); it is an
// Update of SnoozedUntil alone.
func (s *Service) Snooze(ctx context.Context, id string, expectedVersion uint64, until *time.Time) (*Rule, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	in := r.Input
	in.SnoozedUntil = until
	return s.Update(ctx, id, expectedVersion, in)
}
