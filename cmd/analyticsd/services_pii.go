package main

import (
	"github.com/learnhub/analytics-service/adhoc"
	"github.com/learnhub/analytics-service/privacy"
)

// piiKeys are ANALYTICS_PII_KEYS, or privacy's defaults when unset: the
// keys the privacy tier erases, the AI gateway redacts and the ad-hoc
// sandbox's PII-free relation hides.
func (a *app) piiKeys() []string {
	if len(a.cfg.PIIKeys) == 0 {
		return privacy.DefaultPIIKeys()
	}
	return a.cfg.PIIKeys
}

// humanSQLPII is the PII policy of the SQL people write (eventsQuery and
// SQL exports): analysts read the PII-free relation, admins (who also run
// the privacy operations) the data as stored. The AI gateway's run_sql
// always reads the PII-free relation (services_insights.go).
func (a *app) humanSQLPII(cfg adhoc.Config) adhoc.Config {
	cfg.PIIKeys, cfg.PII = a.piiKeys(), adhoc.PIIHiddenBelowAdmin
	return cfg
}
