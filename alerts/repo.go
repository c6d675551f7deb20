package alerts

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/audit"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Tables of migration 0014_alerts.sql.
const (
	rulesTable      = "alert_rules"
	statesTable     = "alert_states"
	statusTable     = "alert_rule_status"
	historyTable    = "alert_history"
	deliveriesTable = "alert_deliveries"
	channelsTable   = "alert_channels"
)

var (
	ruleColumns  = []string{"tenant_id", "rule_id", "version", "is_deleted", "name", "enabled", "definition", "owner", "created_at", "updated_at"}
	stateColumns = []string{"tenant_id", "rule_id", "series_key", "version", "is_deleted", "labels", "state", "since", "fired_bucket", "last_bucket",
		"prev_state", "prev_since", "prev_fired_bucket", "last_value", "updated_at"}
	statusColumns   = []string{"tenant_id", "rule_id", "version", "is_deleted", "last_bucket", "last_error", "last_notified_at", "evaluated_at"}
	historyColumns  = []string{"tenant_id", "rule_id", "bucket", "series_key", "labels", "from_state", "state", "value", "expected", "error", "at"}
	deliveryColumns = []string{"tenant_id", "delivery_key", "version", "is_deleted", "rule_id", "channel", "status", "attempts", "last_error", "delivered_at", "updated_at"}
	channelColumns  = []string{"tenant_id", "version", "is_deleted", "emails", "webhook_url", "webhook_secret", "updated_at"}
)

// storedState is one row of alert_states.
type storedState struct {
	SeriesState
	// Before is the state before LastBucket was evaluated: evaluating that
	// bucket again (a retry after a partial write) starts from it, so it
	// finds the same transitions.
	Before     SeriesState
	RuleID     string
	Key        string
	Labels     map[string]string
	LastBucket time.Time
	LastValue  *float64
	Version    uint64
}

// ruleStatus is one row of alert_rule_status.
type ruleStatus struct {
	RuleID         string
	LastBucket     time.Time
	LastError      string
	LastNotifiedAt time.Time
	EvaluatedAt    time.Time
	Version        uint64
}

// delivery is one row of alert_deliveries.
type delivery struct {
	Key      string
	RuleID   string
	Channel  string
	Status   string
	Attempts int
	Error    string
	Version  uint64
}

// Delivery statuses.
const (
	deliverySent     = "SENT"
	deliveryRetrying = "RETRYING"
	deliveryFailed   = "FAILED"
)

// repo reads and writes the alert tables.
type repo struct {
	db  *store.DB
	now func() time.Time
}

// version is the next version of a row: max(previous+1, now in µs).
func (r repo) version(prev uint64) (uint64, time.Time) {
	now := r.now().UTC()
	return max(prev+1, uint64(now.UnixMicro())), now.Truncate(time.Millisecond)
}

func sel(table string, cols []string) string {
	return "SELECT " + strings.Join(cols, ", ") + " FROM " + store.QuoteIdent(table) + " FINAL"
}

// saveRule writes rule as a new version (deleted writes a tombstone).
func (r repo) saveRule(ctx context.Context, rule *Rule, deleted bool) error {
	rule.Version, rule.UpdatedAt = r.version(rule.Version)
	def, err := json.Marshal(rule.Input)
	if err != nil {
		return errs.Wrap("alerts.save", errs.KindInternal, err, "")
	}
	row := []any{rule.Tenant, rule.ID, rule.Version, boolByte(deleted), rule.Name, boolByte(rule.Enabled), string(def), rule.Owner, rule.CreatedAt, rule.UpdatedAt}
	return r.db.Insert(ctx, store.Insert{Table: rulesTable, Columns: ruleColumns, Rows: [][]any{row}})
}

// audit writes one audit_log row for a command on a rule, without secrets.
func (r repo) audit(ctx context.Context, action string, before, after *Rule) error {
	enc := func(x *Rule) string {
		if x == nil {
			return ""
		}
		cp := *x
		cp.Channels = redacted(x.Channels)
		b, _ := json.Marshal(cp)
		return string(b)
	}
	return audit.Write(ctx, r.db, [][]any{audit.Row(ctx, after.Tenant, after.UpdatedAt, action, "alert_rule", after.ID, enc(before), enc(after))})
}

// rules reads the scope's stored rules (tombstones included when withDeleted,
// so a deleted default rule stays switched off), oldest first.
func (r repo) rules(ctx context.Context, scope store.Scope, id string) ([]*Rule, error) {
	guard, tenant := scope.Predicate("")
	q, args := sel(rulesTable, ruleColumns)+" WHERE "+guard, []any{tenant}
	if id != "" {
		q, args = q+" AND rule_id = ?", append(args, id)
	}
	rows, err := r.db.Query(ctx, q+" ORDER BY created_at, rule_id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Rule{}
	for rows.Next() {
		rule := &Rule{}
		var deleted, enabled uint8
		var def string
		if err := rows.Scan(&rule.Tenant, &rule.ID, &rule.Version, &deleted, &rule.Name, &enabled, &def, &rule.Owner, &rule.CreatedAt, &rule.UpdatedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(def), &rule.Input); err != nil {
			return nil, errs.Wrap("alerts.load", errs.KindInternal, err, "")
		}
		rule.Enabled = enabled == 1
		rule.Default = strings.HasPrefix(rule.ID, DefaultRulePrefix)
		out = append(out, rule)
	}
	return out, rows.Err()
}

// dangerousUnscopedTenants lists every tenant that has metrics or rules:
// the tenants the tick evaluates (defaults apply to every tenant with the
// metric catalog installed).
func (r repo) dangerousUnscopedTenants(ctx context.Context) ([]string, error) {
	rows, err := r.db.Query(ctx, "SELECT DISTINCT tenant_id FROM (SELECT tenant_id FROM "+store.QuoteIdent("metrics")+
		" UNION ALL SELECT tenant_id FROM "+store.QuoteIdent(rulesTable)+") ORDER BY tenant_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// states reads the current series states of the scope's rules, by rule
// and series key.
func (r repo) states(ctx context.Context, scope store.Scope) (map[string]map[string]*storedState, error) {
	guard, tenant := scope.Predicate("")
	rows, err := r.db.Query(ctx, sel(statesTable, stateColumns)+" WHERE "+guard+" ORDER BY rule_id, series_key", tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]*storedState{}
	for rows.Next() {
		s := &storedState{}
		var ten, labels, state, prev string
		var deleted uint8
		var updated time.Time
		if err := rows.Scan(&ten, &s.RuleID, &s.Key, &s.Version, &deleted, &labels, &state, &s.Since, &s.FiredBucket, &s.LastBucket,
			&prev, &s.Before.Since, &s.Before.FiredBucket, &s.LastValue, &updated); err != nil {
			return nil, err
		}
		s.State, s.Before.State = State(state), State(prev)
		if err := json.Unmarshal([]byte(labels), &s.Labels); err != nil {
			return nil, errs.Wrap("alerts.states", errs.KindInternal, err, "")
		}
		if out[s.RuleID] == nil {
			out[s.RuleID] = map[string]*storedState{}
		}
		out[s.RuleID][s.Key] = s
	}
	return out, rows.Err()
}

// saveStates writes series states (of any rules of tenant) in one insert.
func (r repo) saveStates(ctx context.Context, tenant string, list []*storedState) error {
	if len(list) == 0 {
		return nil
	}
	rows := make([][]any, len(list))
	for i, s := range list {
		var updated time.Time
		s.Version, updated = r.version(s.Version)
		labels, _ := json.Marshal(nonNilMap(s.Labels))
		rows[i] = []any{tenant, s.RuleID, s.Key, s.Version, uint8(0), string(labels), string(s.State), s.Since, s.FiredBucket, s.LastBucket,
			string(s.Before.State), s.Before.Since, s.Before.FiredBucket, optFloat(s.LastValue), updated}
	}
	return r.db.Insert(ctx, store.Insert{Table: statesTable, Columns: stateColumns, Rows: rows})
}

// statuses reads the evaluation status of the scope's rules, by rule.
func (r repo) statuses(ctx context.Context, scope store.Scope) (map[string]*ruleStatus, error) {
	guard, tenant := scope.Predicate("")
	rows, err := r.db.Query(ctx, sel(statusTable, statusColumns)+" WHERE "+guard, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*ruleStatus{}
	for rows.Next() {
		s := &ruleStatus{}
		var ten string
		var deleted uint8
		if err := rows.Scan(&ten, &s.RuleID, &s.Version, &deleted, &s.LastBucket, &s.LastError, &s.LastNotifiedAt, &s.EvaluatedAt); err != nil {
			return nil, err
		}
		out[s.RuleID] = s
	}
	return out, rows.Err()
}

// saveStatuses writes rules' evaluation statuses in one insert.
func (r repo) saveStatuses(ctx context.Context, tenant string, list []*ruleStatus) error {
	if len(list) == 0 {
		return nil
	}
	rows := make([][]any, len(list))
	for i, s := range list {
		s.Version, s.EvaluatedAt = r.version(s.Version)
		rows[i] = []any{tenant, s.RuleID, s.Version, uint8(0), s.LastBucket, s.LastError, s.LastNotifiedAt, s.EvaluatedAt}
	}
	return r.db.Insert(ctx, store.Insert{Table: statusTable, Columns: statusColumns, Rows: rows})
}

// saveHistory appends the evaluations of one rule and bucket.
func (r repo) saveHistory(ctx context.Context, list []HistoryEntry) error {
	if len(list) == 0 {
		return nil
	}
	rows := make([][]any, len(list))
	for i, h := range list {
		labels, _ := json.Marshal(nonNilMap(h.Series))
		rows[i] = []any{h.Tenant, h.RuleID, h.Bucket, h.SeriesKey, string(labels), string(h.From), string(h.State), optFloat(h.Value), optFloat(h.Expected), h.Error, h.At}
	}
	return r.db.Insert(ctx, store.Insert{Table: historyTable, Columns: historyColumns, Rows: rows})
}

// HistoryFilter narrows History.
type HistoryFilter struct {
	RuleID string // empty means every rule
	From   time.Time
	To     time.Time
	// TransitionsOnly keeps evaluations that changed the state.
	TransitionsOnly bool
	Limit           int
}

// history reads the scope's history, newest bucket first.
func (r repo) history(ctx context.Context, scope store.Scope, f HistoryFilter) ([]HistoryEntry, error) {
	guard, tenant := scope.Predicate("")
	q, args := sel(historyTable, historyColumns)+" WHERE "+guard+" AND bucket >= ? AND bucket < ?", []any{tenant, f.From.UTC(), f.To.UTC()}
	if f.RuleID != "" {
		q, args = q+" AND rule_id = ?", append(args, f.RuleID)
	}
	if f.TransitionsOnly {
		q += " AND from_state != state"
	}
	q, args = q+" ORDER BY bucket DESC, rule_id, series_key LIMIT ?", append(args, f.Limit)
	rows, err := r.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []HistoryEntry{}
	for rows.Next() {
		var h HistoryEntry
		var labels, from, state string
		if err := rows.Scan(&h.Tenant, &h.RuleID, &h.Bucket, &h.SeriesKey, &labels, &from, &state, &h.Value, &h.Expected, &h.Error, &h.At); err != nil {
			return nil, err
		}
		h.From, h.State = State(from), State(state)
		_ = json.Unmarshal([]byte(labels), &h.Series)
		out = append(out, h)
	}
	return out, rows.Err()
}

// delivery reads one delivery log row; ok is false when there is none.
func (r repo) delivery(ctx context.Context, scope store.Scope, key string) (*delivery, bool, error) {
	guard, tenant := scope.Predicate("")
	rows, err := r.db.Query(ctx, sel(deliveriesTable, deliveryColumns)+" WHERE "+guard+" AND delivery_key = ?", tenant, key)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return &delivery{Key: key}, false, rows.Err()
	}
	d := &delivery{}
	var ten string
	var deleted uint8
	var attempts uint64
	var deliveredAt *time.Time
	var updated time.Time
	if err := rows.Scan(&ten, &d.Key, &d.Version, &deleted, &d.RuleID, &d.Channel, &d.Status, &attempts, &d.Error, &deliveredAt, &updated); err != nil {
		return nil, false, err
	}
	d.Attempts = int(attempts)
	return d, true, nil
}

func (r repo) saveDelivery(ctx context.Context, tenant string, d *delivery) error {
	var updated time.Time
	d.Version, updated = r.version(d.Version)
	var deliveredAt any
	if d.Status == deliverySent {
		deliveredAt = updated
	}
	row := []any{tenant, d.Key, d.Version, uint8(0), d.RuleID, d.Channel, d.Status, uint32(d.Attempts), d.Error, deliveredAt, updated}
	return r.db.Insert(ctx, store.Insert{Table: deliveriesTable, Columns: deliveryColumns, Rows: [][]any{row}})
}

// channels reads the tenant's admin alert channels (zero when never set).
func (r repo) channels(ctx context.Context, scope store.Scope) (*ChannelSettings, error) {
	guard, tenant := scope.Predicate("")
	rows, err := r.db.Query(ctx, sel(channelsTable, channelColumns)+" WHERE "+guard, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	c := &ChannelSettings{Tenant: scope.Tenant(), Emails: []string{}}
	if rows.Next() {
		var deleted uint8
		if err := rows.Scan(&c.Tenant, &c.Version, &deleted, &c.Emails, &c.WebhookURL, &c.WebhookSecret, &c.UpdatedAt); err != nil {
			return nil, err
		}
	}
	return c, rows.Err()
}

func (r repo) saveChannels(ctx context.Context, c *ChannelSettings) error {
	c.Version, c.UpdatedAt = r.version(c.Version)
	row := []any{c.Tenant, c.Version, uint8(0), nonNilSlice(c.Emails), c.WebhookURL, c.WebhookSecret, c.UpdatedAt}
	return r.db.Insert(ctx, store.Insert{Table: channelsTable, Columns: channelColumns, Rows: [][]any{row}})
}

// redacted is cs without webhook secrets.
func redacted(cs []Channel) []Channel {
	out := make([]Channel, len(cs))
	for i, c := range cs {
		c.Secret = ""
		out[i] = c
	}
	return out
}

func optFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
