package main

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/reports"
)

// openAlerts builds the alert service: metric values through the querier,
// anomaly scores from the monitors service, events on the bus,
// notifications by email through the report SMTP sender
// (ANALYTICS_SMTP_ADDR; without it email channels are refused) and by
// webhook through the report webhook rules (private addresses only with
// ANALYTICS_REPORT_WEBHOOK_ALLOW_PRIVATE).
func (a *app) openAlerts(s *services) (*alerts.Service, error) {
	deps := alerts.Deps{DB: a.db, Jobs: s.jobs, Bus: a.bus, Metrics: s.querier,
		Anomalies: monitorScores{s.monitors},
		Webhooks:  &reports.Webhooks{AllowPrivate: a.cfg.ReportWebhookAllowPrivate, UserAgent: "analyticsd-alerts/1"}}
	if c := a.cfg; c.SMTPAddr != "" {
		deps.Mailer = &reports.SMTPMailer{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUsername, Password: c.SMTPPassword}
	}
	return alerts.NewService(deps, alerts.Config{Logger: a.log, TickSpec: a.cfg.AlertsCron})
}

// monitorScores is the monitors service as the alerts' AnomalySource: the
// stored per-bucket scores of a monitor (key-metric defaults included),
// with the confidence that the bucket is anomalous (Score.AnomalyConfidence,
// not the detector's warm-up confidence, which is 1 on every bucket).
type monitorScores struct{ m *monitors.Service }

func (ms monitorScores) Scores(ctx context.Context, tenant, monitorID string, from, to time.Time) ([]alerts.AnomalyPoint, error) {
	scores, err := ms.m.Scores(ctx, tenant, monitorID, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]alerts.AnomalyPoint, len(scores))
	for i, sc := range scores {
		out[i] = alerts.AnomalyPoint{Bucket: sc.Bucket, Series: sc.Series, Value: sc.Value, Expected: sc.Expected,
			Lower: sc.Lower, Upper: sc.Upper, Score: sc.Score, Confidence: sc.AnomalyConfidence(), Detector: sc.Detector, Query: sc.Query,
			ReviewedBy: sc.Review.ReviewedBy()}
		if out[i].ReviewedBy != "" {
			out[i].Explanation = sc.Review.Explanation
		}
	}
	return out, nil
}

// Evaluated implements alerts.AnomalyReadiness: an anomaly rule waits for
// its monitor's evaluation of the bucket instead of reading NO_DATA.
func (ms monitorScores) Evaluated(ctx context.Context, tenant, monitorID string, to time.Time) (bool, error) {
	return ms.m.Evaluated(ctx, tenant, monitorID, to)
}

// alertFeed is the in-app alertEvents feed of this API replica.
func (a *app) alertFeed() *alerts.Feed {
	return alerts.NewFeed(a.bus.JetStream(), a.bus.Stream(), a.log)
}
