package privacy

import "time"

// Receipt is the payload of analytics.erasure.completed.v1: proof for the
// tenant that a request was carried out. It names the user only by the
// salted hash, never by the raw id.
type Receipt struct {
	Tenant      string     `json:"tenant"`
	UserHash    string     `json:"user_hash"`
	RequestID   string     `json:"request_id"`
	RequestedAt time.Time  `json:"requested_at"`
	CompletedAt time.Time  `json:"completed_at"`
	Hot         HotCounts  `json:"hot"`
	Cold        ColdCounts `json:"cold"`
}

// HotCounts are what the hot tier (ClickHouse) lost to one erasure.
type HotCounts struct {
	// Events are the user's events deleted (after dedup, as FINAL counts them).
	Events uint64 `json:"events"`
	// DeadLetters are refused envelopes deleted because they named the user.
	DeadLetters uint64 `json:"dead_letters"`
	// CohortUsers are cohort membership rows deleted (every version).
	CohortUsers uint64 `json:"cohort_users"`
	// RollupDays are the days of metrics_daily recomputed without the user.
	RollupDays uint64 `json:"rollup_days"`
}

// ColdCounts are what one erasure rewrote in the cold tier.
type ColdCounts struct {
	// Objects are the Parquet objects rewritten.
	Objects uint64 `json:"objects"`
	// Rows are the user's rows pseudonymised in them.
	Rows uint64 `json:"rows"`
}
