// Package cohorts defines groups of learners by behaviour (criteria over
// their events) or by an uploaded list, evaluates them on demand or on a
// schedule, materialises each evaluation's members in cohort_users, and
// announces who entered and who left (analytics.cohort.evaluated.v1).
package cohorts

import (
	"time"
)

// Cohort is a definition.
type Cohort struct {
	ID          string
	Name        string
	Description string
	Active      bool // evaluated by the hourly schedule
	// Criteria selects members from events; nil for a static cohort.
	Criteria *Criteria
	// Static lists members of an uploaded cohort; empty for a behavioural one.
	Static    []string
	Version   uint64
	UpdatedAt time.Time
	UpdatedBy string
}

// SizePoint is one point of a cohort's size history.
type SizePoint struct {
	Version      uint64
	ScheduledFor time.Time
	Size         uint64
	Entered      uint64
	Exited       uint64
}

// Evaluation is one evaluation's outcome.
type Evaluation struct {
	CohortID     string
	Version      uint64
	ScheduledFor time.Time
	EvaluatedAt  time.Time
	Size         uint64
	Entered      uint64
	Exited       uint64
	Error        string
}

// Evaluated is the payload of analytics.cohort.evaluated.v1.
type Evaluated struct {
	Tenant       string    `json:"tenant"`
	CohortID     string    `json:"cohort_id"`
	Version      uint64    `json:"version"`
	ScheduledFor time.Time `json:"scheduled_for"`
	Size         uint64    `json:"size"`
	Entered      uint64    `json:"entered"`
	Exited       uint64    `json:"exited"`
	// EnteredUsers and ExitedUsers hold at most MaxIDsInEvent ids each,
	// ordered by user id; Truncated says more changed than listed.
	EnteredUsers []string `json:"entered_users"`
	ExitedUsers  []string `json:"exited_users"`
	Truncated    bool     `json:"truncated"`
	// More says how to page the ids left out (nil when none were).
	More *MorePaging `json:"more,omitempty"`
}

// MorePaging tells a consumer of a truncated event how to read the rest:
// the GraphQL field cohort(id).changes(version, direction, first, after)
// (Service.Changes) pages entered or exited ids from the given cursor, and
// cohort(id).members(first, after) pages the whole membership.
type MorePaging struct {
	Query        string `json:"query"`
	EnteredAfter string `json:"entered_after,omitempty"`
	ExitedAfter  string `json:"exited_after,omitempty"`
}

// Subjects and limits.
const (
	SubjectEvaluated = "analytics.cohort.evaluated.v1"
	MaxIDsInEvent    = 1000
	KindEvaluate     = "cohorts:evaluate"
	KindEvaluateAll  = "cohorts:evaluate-all"
	DefaultSpec      = "7 * * * *" // hourly
)
