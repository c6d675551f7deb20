package main

import (
	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/reports"
)

// openAlerts builds the alert service: metric values through the querier,
// events on the bus, notifications by email through the report SMTP sender
// (ANALYTICS_SMTP_ADDR; without it email channels are refused) and by
// webhook through the report webhook rules (private addresses only with
// ANALYTICS_REPORT_WEBHOOK_ALLOW_PRIVATE). Anomaly scores come from the
// monitors service once it is wired here (Deps.Anomalies); until then
// ANOMALY rules evaluate as ERROR and the default key-metric rules wait.
func (a *app) openAlerts(s *services) (*alerts.Service, error) {
	deps := alerts.Deps{DB: a.db, Jobs: s.jobs, Bus: a.bus, Metrics: s.querier,
		Webhooks: &reports.Webhooks{AllowPrivate: a.cfg.ReportWebhookAllowPrivate, UserAgent: "analyticsd-alerts/1"}}
	if c := a.cfg; c.SMTPAddr != "" {
		deps.Mailer = &reports.SMTPMailer{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUsername, Password: c.SMTPPassword}
	}
	return alerts.NewService(deps, alerts.Config{Logger: a.log})
}

// alertFeed is the in-app alertEvents feed of this API replica.
func (a *app) alertFeed() *alerts.Feed {
	return alerts.NewFeed(a.bus.JetStream(), a.bus.Stream(), a.log)
}
