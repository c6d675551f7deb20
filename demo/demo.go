// Package demo generates realistic, deterministic learning events for
// several tenants and publishes them through the real firehose (JetStream),
// never straight into ClickHouse, so `analyticsd seed` exercises the same
// path as production traffic.
//
// The data: learners sign up over the period, enrol in courses (popular
// ones more often), work through lessons with a video each, take a quiz
// after every third lesson (scores beta-distributed around 72), sometimes
// submit assignments, drop off along the way (less engaged learners
// sooner), complete the course and usually get a certificate. Activity is
// busier on weekdays than at weekends and peaks mid-morning and evening.
//
// One anomaly is planted on purpose, for insights and alerts to find: for
// tenant "demo", course completions (and the certificates that follow them)
// drop by about 60 % during the calendar month three months before the end
// of the period (AnomalyMonth). Nothing else changes in that month.
//
// The same Options always give the same events (same ids), so seeding twice
// stores nothing twice.
package demo

import (
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultSeed     = 20260301
	DefaultLearners = 3000
	DefaultDays     = 180
	// MaxDays keeps every event inside the firehose's hot retention.
	MaxDays = 390
	// AnomalyTenant is the tenant whose completions drop in AnomalyMonth.
	AnomalyTenant = "demo"
	// AnomalyDrop is the share of completions removed in that month.
	AnomalyDrop = 0.6
	// anomalyMonthsBack places the anomaly month before the end of the period.
	anomalyMonthsBack = 3
)

// Tenant is one generated organisation.
type Tenant struct {
	ID string
	// Share of the learners that belong to it.
	Share float64
	// Courses it offers.
	Courses int
}

// Options size the generated data.
type Options struct {
	// Seed makes the data reproducible; zero means DefaultSeed.
	Seed uint64
	// Learners across all tenants; zero means DefaultLearners (3000).
	Learners int
	// Days the data covers, ending at End; zero means DefaultDays (180),
	// at most MaxDays.
	Days int
	// End is the exclusive end of the period; zero means today 00:00 UTC
	// (so a seed run twice on one day produces the same events).
	End time.Time
	// Tenants; nil means DefaultTenants().
	Tenants []Tenant
}

// DefaultTenants are "demo" (the tenant of the dev token), a company and a school.
func DefaultTenants() []Tenant {
	return []Tenant{
		{ID: "demo", Share: 0.5, Courses: 12},
		{ID: "acme-corp", Share: 0.3, Courses: 8},
		{ID: "northwind-school", Share: 0.2, Courses: 10},
	}
}

// AnomalyMonth is the first instant of the month in which the anomaly
// tenant's completions drop.
func AnomalyMonth(opts Options) time.Time {
	end := opts.withDefaults().End
	return time.Date(end.Year(), end.Month()-anomalyMonthsBack, 1, 0, 0, 0, 0, time.UTC)
}

func (o Options) withDefaults() Options {
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Learners <= 0 {
		o.Learners = DefaultLearners
	}
	if o.Days <= 0 {
		o.Days = DefaultDays
	}
	o.Days = min(o.Days, MaxDays)
	if o.End.IsZero() {
		o.End = time.Now().UTC().Truncate(24 * time.Hour)
	}
	o.End = o.End.UTC()
	if o.Tenants == nil {
		o.Tenants = DefaultTenants()
	}
	return o
}
