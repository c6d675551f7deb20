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

// Criteria is one node of the criteria tree: exactly one field is set.
type Criteria struct {
	And []Criteria `json:"and,omitempty"`
	Or  []Criteria `json:"or,omitempty"`
	Not *Criteria  `json:"not,omitempty"`
	// Performed: the user did the event (matching Where) Count times (compared
	// with Op) within Within, e.g. at least 3 lesson.completed in the last 30d.
	Performed *Performed `json:"performed,omitempty"`
	// FirstSeen / LastSeen: the user's first or last event is before or after
	// a moment (an absolute time or a window back from now).
	FirstSeen *Seen `json:"firstSeen,omitempty"`
	LastSeen  *Seen `json:"lastSeen,omitempty"`
	// InCohort: the user is in the latest evaluation of another cohort.
	InCohort string `json:"inCohort,omitempty"`
}

// Performed counts matching events per user.
type Performed struct {
	Type string `json:"type"`
	// Where restricts to events whose string properties equal these values.
	Where map[string]string `json:"where,omitempty"`
	// Op compares the count: gte (default), gt, eq, lt, lte.
	Op    string `json:"op,omitempty"`
	Count int    `json:"count"`
	// Within is a window back from the evaluation time, e.g. "30d"; empty
	// means all of the hot tier.
	Within string `json:"within,omitempty"`
}

// Seen compares a user's first or last event time with a moment.
type Seen struct {
	// Before or After, one of them: an RFC 3339 time or a window back from
	// the evaluation time ("30d" means 30 days before it).
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
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
	// EnteredUsers and ExitedUsers hold at most MaxIDsInEvent ids each; page
	// the rest with the GraphQL field cohort(id).members.
	EnteredUsers []string `json:"entered_users"`
	ExitedUsers  []string `json:"exited_users"`
	Truncated    bool     `json:"truncated"`
}

// Subjects and limits.
const (
	SubjectEvaluated = "analytics.cohort.evaluated.v1"
	MaxIDsInEvent    = 1000
	KindEvaluate     = "cohorts:evaluate"
	KindEvaluateAll  = "cohorts:evaluate-all"
	DefaultSpec      = "7 * * * *" // hourly
)
