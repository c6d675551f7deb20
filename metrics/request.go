package metrics

import (
	"time"

	"github.com/learnhub/analytics-service/timerange"
)

// Limits of a request.
const (
	MaxRequestDimensions = 5
	MaxRequestFilters    = 20
	MaxLimit             = 1000
)

// GrainTotal asks for one value over the whole range even when the metric
// has a default grain (an empty Request.Grain means the default).
const GrainTotal Grain = "NONE"

// OtherBucket is the dimension value of the series that collects every
// dimension combination outside the top Limit.
const OtherBucket = "(other)"

// Compare names the window a result is compared with.
type Compare string

// The comparison windows.
const (
	ComparePreviousPeriod Compare = "PREVIOUS_PERIOD" // same length, just before
	ComparePreviousYear   Compare = "PREVIOUS_YEAR"   // same dates a year earlier
)

// Order sorts series.
type Order string

// The series orders. VALUE_DESC is the default.
const (
	OrderValueDesc Order = "VALUE_DESC"
	OrderValueAsc  Order = "VALUE_ASC"
	OrderDimension Order = "DIMENSION"
)

// Request asks for one metric's values.
type Request struct {
	MetricID  string // one of MetricID or MetricKey
	MetricKey string
	// Dimensions group the series; each must be allowed by the metric.
	Dimensions []string
	Filters    []Filter
	TimeRange  timerange.Spec
	// Grain buckets the series; empty means the metric's default grain and
	// GrainTotal one value over the range.
	Grain Grain
	// Timezone is the IANA zone buckets and to-date ranges follow; empty means UTC.
	Timezone  string
	CompareTo Compare // empty means no comparison
	OrderBy   Order   // empty means VALUE_DESC
	// Limit keeps the top Limit series (by OrderBy) and folds the rest into
	// one OtherBucket series; zero means all series.
	Limit int
	// Cohorts keep only the events of users in (or, with Exclude, not in)
	// each cohort's latest good evaluation.
	Cohorts []CohortFilter
	// CohortBreakdown, a cohort id, adds the last dimension CohortDimension
	// with the values InCohort and NotInCohort.
	CohortBreakdown string
}

// CohortFilter is a condition on cohort membership.
type CohortFilter struct {
	CohortID string
	Exclude  bool // users not in the cohort
}

// CohortDimension names the cohort breakdown among Result.Dimensions; it
// cannot clash with a metric dimension (those are event columns or
// properties.… paths).
const CohortDimension = "cohort"

// The values of CohortDimension.
const (
	InCohort    = "in cohort"
	NotInCohort = "not in cohort"
)

// MaxRequestCohorts bounds Request.Cohorts.
const MaxRequestCohorts = 5

// Result is a metric's answer.
type Result struct {
	Metric *Definition
	Range  timerange.Range
	// CompareRange is the comparison window, when one was asked for.
	CompareRange *timerange.Range
	Grain        Grain // GrainTotal when not bucketed
	// Dimensions are the request's dimensions; each series' Values follow them.
	Dimensions []string
	Series     []Series
	// Totals is the metric over the whole range and every series.
	Totals Point
	// Notices are messages for the caller, e.g. a deprecation warning.
	Notices []string
	// Path is "raw" (events table) or "rollup" (daily pre-aggregates).
	Path string
	// SQLCount is the number of statements the answer took; a batched
	// answer shares them with the other requests of its batch.
	SQLCount int
}

// Series is the values of one dimension combination.
type Series struct {
	Values []string // dimension values in Result.Dimensions order
	Points []Point  // one per bucket, oldest first, gaps filled
	Total  Point    // the series over the whole range
}

// Point is one bucket's value. Nil values mean "no data" (an average of
// nothing); counts are zero instead.
type Point struct {
	Bucket       time.Time // bucket start in the request's zone; Range.From for totals
	Value        *float64
	CompareValue *float64
	Delta        *float64 // Value - CompareValue
	DeltaPercent *float64 // Delta / CompareValue * 100
}

// Path names.
const (
	PathRaw    = "raw"
	PathRollup = "rollup"
)
