package cohorts

// Criteria is one node of the criteria tree: exactly one field is set.
// Validation errors name the node by its path, e.g.
// criteria.and[1].performed.count.
type Criteria struct {
	And []Criteria `json:"and,omitempty"`
	Or  []Criteria `json:"or,omitempty"`
	Not *Criteria  `json:"not,omitempty"`
	// Performed: the user did the event (matching Where and Filters) Count
	// times (compared with Op) within the window, e.g. at least 3
	// lesson.completed in the last 30d.
	Performed *Performed `json:"performed,omitempty"`
	// DidNotPerform: the user has no matching event in the window (Op and
	// Count must be left empty). The user must have some other event.
	DidNotPerform *Performed `json:"didNotPerform,omitempty"`
	// FirstSeen / LastSeen: the user's first or last event is before or after
	// a moment (an absolute time or a window back from now).
	FirstSeen *Seen `json:"firstSeen,omitempty"`
	LastSeen  *Seen `json:"lastSeen,omitempty"`
	// Property: the latest value of an event property, compared with a value.
	Property *PropertyValue `json:"property,omitempty"`
	// Metric: a per-user aggregate of a registry metric, compared with a
	// threshold (e.g. avg_quiz_score < 60 over the last 30d).
	Metric *MetricThreshold `json:"metric,omitempty"`
	// InCohort: the user is in the latest good evaluation of another cohort
	// of the same tenant. References may not form a cycle.
	InCohort string `json:"inCohort,omitempty"`
}

// Performed counts matching events per user.
type Performed struct {
	Type string `json:"type"`
	// Where restricts to events whose properties equal these values (as
	// text); a shorthand for Filters with op eq.
	Where map[string]string `json:"where,omitempty"`
	// Filters restrict to events whose properties compare with values.
	Filters []PropertyFilter `json:"filters,omitempty"`
	// Op compares the count: gte (default), gt, eq, lt, lte, or the symbols
	// >=, >, =, <, <=.
	Op    string `json:"op,omitempty"`
	Count int    `json:"count"`
	// Within is a window back from the evaluation time, e.g. "30d"; Between
	// is a fixed window. Neither means all of the hot tier.
	Within  string   `json:"within,omitempty"`
	Between *Between `json:"between,omitempty"`
}

// PropertyFilter compares one event property with a value. eq and neq
// compare text; gt, gte, lt and lte compare numbers (Value must be one);
// contains looks for a substring.
type PropertyFilter struct {
	Property string `json:"property"`
	Op       string `json:"op"`
	Value    string `json:"value"`
}

// Between is a fixed window [From, To) of RFC 3339 times.
type Between struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Seen compares a user's first or last event time with a moment.
type Seen struct {
	// Before or After, one of them: an RFC 3339 time or a window back from
	// the evaluation time ("30d" means 30 days before it).
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// PropertyValue compares the latest value of a property (on the user's
// newest event that carries it, optionally of one event Type) with Value.
// Ops as in PropertyFilter except contains. A user whose events never
// carry the property does not match.
type PropertyValue struct {
	Property string `json:"property"`
	Type     string `json:"type,omitempty"`
	Op       string `json:"op"`
	Value    string `json:"value"`
}

// MetricThreshold compares a per-user aggregate of a registry metric with
// Value: COUNT, SUM, AVG, MIN and MAX metrics are allowed, with their
// event types, filters and value path. A user with no matching events has
// count and sum 0 and no avg, min or max (the condition is false).
type MetricThreshold struct {
	Key     string   `json:"key"`
	Op      string   `json:"op"`
	Value   float64  `json:"value"`
	Within  string   `json:"within,omitempty"`
	Between *Between `json:"between,omitempty"`
}

// references lists the cohorts (InCohort) and metric keys (Metric) the
// tree names, in tree order, each once.
func (c Criteria) references() (cohortIDs, metricKeys []string) {
	seen := map[string]bool{}
	var walk func(Criteria)
	walk = func(n Criteria) {
		for _, k := range n.And {
			walk(k)
		}
		for _, k := range n.Or {
			walk(k)
		}
		if n.Not != nil {
			walk(*n.Not)
		}
		if n.InCohort != "" && !seen["c:"+n.InCohort] {
			seen["c:"+n.InCohort] = true
			cohortIDs = append(cohortIDs, n.InCohort)
		}
		if n.Metric != nil && !seen["m:"+n.Metric.Key] {
			seen["m:"+n.Metric.Key] = true
			metricKeys = append(metricKeys, n.Metric.Key)
		}
	}
	walk(c)
	return cohortIDs, metricKeys
}
