package resolvers

import (
	"strings"
	"time"

	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
)

// toAlertInput maps AlertRuleInput onto an alerts.Input (the service
// validates it); a duration that does not parse is BAD_USER_INPUT naming
// its field.
func toAlertInput(in model.AlertRuleInput) (alerts.Input, error) {
	out := alerts.Input{Name: in.Name, Kind: alerts.Kind(in.Kind), MetricKey: in.MetricKey, Dimensions: in.Dimensions,
		Grain: toGrain(in.Grain), MonitorID: deref(in.MonitorID), Threshold: in.Threshold, SnoozedUntil: in.SnoozedUntil,
		NotifyAdmins: in.NotifyAdmins == nil || *in.NotifyAdmins, Enabled: in.Enabled == nil || *in.Enabled}
	if len(in.Filters) > 0 {
		out.Filters = toMetricFilters(in.Filters)
	}
	if in.Comparator != nil {
		out.Comparator = alerts.Comparator(*in.Comparator)
	}
	if in.ScoreField != nil {
		out.ScoreField = alerts.ScoreField(*in.ScoreField)
	}
	if in.NoData != nil {
		out.NoData = alerts.Treatment(*in.NoData)
	}
	if in.OnError != nil {
		out.OnError = alerts.Treatment(*in.OnError)
	}
	for _, c := range in.Channels {
		out.Channels = append(out.Channels, alerts.Channel{Kind: alerts.ChannelKind(c.Kind), To: c.To, URL: deref(c.URL), Secret: deref(c.Secret)})
	}
	var err error
	for _, d := range []struct {
		field string
		in    *string
		out   *time.Duration
	}{{"input.for", in.For, &out.For}, {"input.keepFiringFor", in.KeepFiringFor, &out.KeepFiringFor}, {"input.repeatInterval", in.RepeatInterval, &out.RepeatInterval}} {
		if d.in == nil || *d.in == "" {
			continue
		}
		if *d.out, err = time.ParseDuration(*d.in); err != nil {
			return out, errs.Invalid("resolvers.alertRule", d.field, d.field[len("input."):]+` must be a duration such as "90s", "15m" or "2h"`)
		}
	}
	return out, nil
}

// alertVersion checks an expectedVersion (0 is a default rule never tuned).
func alertVersion(v int) (uint64, error) {
	if v < 0 {
		return 0, errs.Invalid("resolvers.alertRule", "expectedVersion", "expectedVersion must be the version you read (0 for a default rule never tuned)")
	}
	return uint64(v), nil
}

func toModelAlertRule(r *alerts.Rule) *model.AlertRule {
	out := &model.AlertRule{ID: r.ID, Name: r.Name, Kind: model.AlertRuleKind(r.Kind), MetricKey: r.MetricKey, Filters: toModelFilters(r.Filters),
		Dimensions: nonNil(r.Dimensions), Grain: model.Grain(r.Grain), MonitorID: ptrIf(r.MonitorID), Comparator: model.AlertComparator(r.Comparator),
		Threshold: r.Threshold, For: r.For.String(), KeepFiringFor: r.KeepFiringFor.String(), NoData: model.AlertTreatment(r.NoData),
		OnError: model.AlertTreatment(r.OnError), SnoozedUntil: r.SnoozedUntil, NotifyAdmins: r.NotifyAdmins, Channels: []*model.AlertChannel{},
		RepeatInterval: r.RepeatInterval.String(), Enabled: r.Enabled, IsDefault: r.Default, Version: int(r.Version), Owner: r.Owner}
	if r.RepeatInterval == 0 {
		out.RepeatInterval = alerts.DefaultRepeatInterval.String()
	}
	if out.NoData == "" {
		out.NoData = model.AlertTreatmentNoData
	}
	if out.OnError == "" {
		out.OnError = model.AlertTreatmentError
	}
	if r.ScoreField != "" {
		f := model.AlertScoreField(r.ScoreField)
		out.ScoreField = &f
	}
	if out.Comparator == "" {
		out.Comparator = model.AlertComparatorAbove
	}
	if !r.Virtual {
		out.CreatedAt, out.UpdatedAt = &r.CreatedAt, &r.UpdatedAt
	}
	for _, c := range r.Channels {
		out.Channels = append(out.Channels, &model.AlertChannel{Kind: model.AlertChannelKind(c.Kind), To: nonNil(c.To), URL: ptrIf(c.URL)})
	}
	return out
}

func toModelFilters(fs []metrics.Filter) []*model.MetricFilter {
	out := []*model.MetricFilter{}
	for _, f := range fs {
		out = append(out, &model.MetricFilter{Dimension: f.Dimension, Op: model.FilterOp(strings.ToUpper(string(f.Op))), Values: nonNil(f.Values)})
	}
	return out
}

func toModelAlertHistory(list []alerts.HistoryEntry) []*model.AlertHistoryEntry {
	out := make([]*model.AlertHistoryEntry, len(list))
	for i, h := range list {
		out[i] = &model.AlertHistoryEntry{RuleID: h.RuleID, Bucket: h.Bucket, Series: labels(h.Series), FromState: model.AlertState(h.From),
			State: model.AlertState(h.State), Value: h.Value, Expected: h.Expected, Error: ptrIf(h.Error), EvaluatedAt: h.At}
	}
	return out
}

func toModelAlertEvent(e *alerts.EventPayload) *model.AlertEvent {
	return &model.AlertEvent{ID: e.ID, Event: model.AlertEventKind(strings.ToUpper(string(e.Event))), RuleID: e.RuleID, RuleName: e.RuleName,
		Kind: model.AlertRuleKind(e.Kind), MonitorID: ptrIf(e.MonitorID), MetricKey: e.MetricKey, Series: labels(e.Series), Bucket: e.Bucket,
		BucketEnd: e.BucketEnd, FiredBucket: e.FiredBucket, PreviousState: model.AlertState(e.PreviousState), State: model.AlertState(e.State),
		Value: e.Value, Expected: e.Expected, Lower: e.Lower, Upper: e.Upper, Confidence: e.Confidence, Score: e.Score,
		ChangePercent: e.ChangePercent, Threshold: e.Threshold, Detector: e.Detector, Query: e.Query, Error: ptrIf(e.Error)}
}

func toModelAlertChannels(c *alerts.ChannelSettings) *model.AlertChannels {
	out := &model.AlertChannels{Emails: nonNil(c.Emails), WebhookURL: ptrIf(c.WebhookURL), HasWebhookSecret: c.WebhookSecret != ""}
	if c.Version > 0 {
		out.UpdatedAt = &c.UpdatedAt
	}
	return out
}

// labels is a series' labels as a JSON object (never null).
func labels(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
