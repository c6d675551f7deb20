package metrics

import (
	"context"

	"github.com/google/uuid"

	"github.com/learnhub/analytics-service/store"
)

// catalogNamespace derives catalog metric ids: the same tenant and key
// always give the same id, so concurrent installs write the same rows.
var catalogNamespace = uuid.MustParse("6f1d0c52-4a0e-4a53-9d0e-6b7f3a1c2e90")

// learningDims are the dimensions the catalog metrics allow.
var learningDims = []Dimension{{Path: "type", Type: TypeString}, {Path: "properties.course_id", Type: TypeString}}

// Catalog returns the learning metrics every tenant starts with. They are
// ordinary metrics once installed: editable, deprecatable.
func Catalog() []Input {
	dims := func() []Dimension { return append([]Dimension(nil), learningDims...) }
	count := func(key, name, desc, event string) Input {
		return Input{Key: key, Name: name, Description: desc, Kind: KindCount, EventTypes: []string{event},
			Dimensions: dims(), DefaultGrain: "DAY", Unit: "events", Format: "#,##0", Owner: systemActor, Tags: []string{"learning"}}
	}
	// key marks a catalog metric as a key metric (watched by a default monitor).
	key := func(in Input) Input { in.KeyMetric = true; return in }
	active := func(key, name, grain string) Input {
		return Input{Key: key, Name: name, Description: "Distinct learners with any event per " + grain + ".",
			Kind: KindUniqueUsers, Dimensions: dims(), DefaultGrain: Grain(grain), Unit: "learners", Format: "#,##0",
			Owner: systemActor, Tags: []string{"learning", "engagement"}, KeyMetric: true}
	}
	score := &ValueRef{Path: "properties.score", Type: TypeFloat64}
	return []Input{
		active("active_learners_dau", "Daily active learners", "DAY"),
		active("active_learners_wau", "Weekly active learners", "WEEK"),
		active("active_learners_mau", "Monthly active learners", "MONTH"),
		count("enrolments", "Enrolments", "Courses learners enrolled in.", "course.enrolled"),
		count("lesson_completions", "Lesson completions", "Lessons learners completed.", "lesson.completed"),
		// A key metric: the completion rate is monthly, so a drop in completions
		// within a month is only watched daily through this count.
		key(count("course_completions", "Course completions", "Courses learners completed.", "course.completed")),
		count("certificates_issued", "Certificates issued", "Certificates issued to learners.", "certificate.issued"),
		count("quiz_submissions", "Quiz submissions", "Quizzes learners submitted.", "quiz.submitted"),
		{Key: "quiz_passes", Name: "Quiz passes", Description: "Quiz submissions scoring 60 or more.", Kind: KindCount,
			EventTypes: []string{"quiz.submitted"}, Filters: []Filter{{Dimension: "properties.score", Op: OpGte, Values: []string{"60"}, Type: TypeFloat64}},
			Dimensions: dims(), DefaultGrain: "DAY", Unit: "events", Format: "#,##0", Owner: systemActor, Tags: []string{"learning", "assessment"}},
		{Key: "course_completion_rate", Name: "Course completion rate", Description: "Course completions per enrolment.",
			Kind: KindRatio, Numerator: "course_completions", Denominator: "enrolments", Dimensions: dims(),
			DefaultGrain: "MONTH", Unit: "ratio", Format: "0.0%", Owner: systemActor, Tags: []string{"learning"}, KeyMetric: true},
		{Key: "quiz_pass_rate", Name: "Quiz pass rate", Description: "Share of quiz submissions scoring 60 or more.",
			Kind: KindRatio, Numerator: "quiz_passes", Denominator: "quiz_submissions", Dimensions: dims(),
			DefaultGrain: "WEEK", Unit: "ratio", Format: "0.0%", Owner: systemActor, Tags: []string{"learning", "assessment"}},
		{Key: "avg_quiz_score", Name: "Average quiz score", Description: "Mean score of submitted quizzes.",
			Kind: KindAvg, EventTypes: []string{"quiz.submitted"}, Value: score, Dimensions: dims(),
			DefaultGrain: "WEEK", Unit: "points", Format: "0.0", Owner: systemActor, Tags: []string{"learning", "assessment"}, KeyMetric: true},
		{Key: "learning_minutes", Name: "Learning minutes", Description: "Minutes of video watched.",
			Kind: KindSum, EventTypes: []string{"video.watched"}, Value: &ValueRef{Path: "properties.seconds", Type: TypeFloat64, Scale: 1.0 / 60},
			Dimensions: dims(), DefaultGrain: "DAY", Unit: "minutes", Format: "#,##0", Owner: systemActor, Tags: []string{"learning", "engagement"}},
		{Key: "new_learners", Name: "New learners", Description: "Learners seen for the first time (their first event ever).",
			Kind: KindUniqueUsers, FirstSeen: true, Dimensions: dims(), DefaultGrain: "DAY", Unit: "learners", Format: "#,##0",
			Owner: systemActor, Tags: []string{"learning", "growth"}, KeyMetric: true},
	}
}

// ensureCatalog installs the catalog metrics a tenant does not have yet,
// once per tenant and process. Ids are derived from (tenant, key) and
// written at version 1, so a concurrent or repeated install rewrites the
// same rows and never overrides a tenant's later edits (higher versions
// win in the ReplacingMergeTree).
func (r *Registry) ensureCatalog(ctx context.Context, scope store.Scope) error {
	if _, ok := r.installed.Load(scope.Tenant()); ok {
		return nil
	}
	guard, tenant := scope.Predicate("")
	rows, err := r.db.Query(ctx, "SELECT metric_id FROM "+store.QuoteIdent(metricsTable)+" WHERE "+guard, tenant)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		have[id] = true
	}
	if err := rows.Close(); err != nil {
		return err
	}
	now := r.now()
	var missing []*Definition
	for _, in := range Catalog() {
		id := uuid.NewSHA1(catalogNamespace, []byte(scope.Tenant()+"/"+in.Key)).String()
		if have[id] {
			continue
		}
		d := &Definition{ID: id, Status: StatusActive, Version: 1, CreatedAt: now, UpdatedAt: now, UpdatedBy: systemActor}
		in.apply(d)
		missing = append(missing, d)
	}
	if len(missing) > 0 {
		if err := r.writeMany(ctx, scope, ActionInstall, missing, func(*Definition) *Definition { return nil }); err != nil {
			return err
		}
	}
	r.installed.Store(scope.Tenant(), struct{}{})
	return nil
}
