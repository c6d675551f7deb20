package dashboards

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// JourneyPresetSlug is the slug of the learner journey dashboard: a
// funnel, a weekly retention triangle and paths over the learning events.
// It is a separate preset, not widgets of learner-progress, so the
// dashboard every tenant opens first stays as fast as it was (journey
// queries read every event of the window per user); it is installed the
// first time a tenant opens it by this slug (see get).
const JourneyPresetSlug = "learner-journey"

// The learning event types the journey preset follows (package ingest's
// catalog; docs/events.md).
const (
	presetEnrolled        = "course.enrolled"
	presetLessonStarted   = "lesson.started"
	presetLessonCompleted = "lesson.completed"
	presetQuizSubmitted   = "quiz.submitted"
	presetCourseCompleted = "course.completed"
)

// JourneyPreset returns the learner-journey dashboard and its widgets.
func JourneyPreset() (Input, []WidgetInput) {
	in := Input{Slug: JourneyPresetSlug, Title: "Learner journey",
		Description: "Where learners drop off between enrolling and completing, who comes back week after week, and what they do after enrolling.",
		TimeRange:   timerange.Spec{Last: "90d"},
	}
	step := func(t, label string) journeys.Step {
		return journeys.Step{Matcher: journeys.Matcher{EventType: t}, Label: label}
	}
	funnel := &journeys.FunnelRequest{
		Steps: []journeys.Step{step(presetEnrolled, "Enrolled"), step(presetLessonStarted, "Started a lesson"),
			step(presetLessonCompleted, "Completed a lesson"), step(presetQuizSubmitted, "Submitted a quiz"),
			step(presetCourseCompleted, "Completed the course")},
		ConversionWindow: 30 * 24 * time.Hour,
		Breakdown:        &journeys.Breakdown{Property: "course_id", TopN: 5},
	}
	retention := &journeys.RetentionRequest{
		StartEvent:  journeys.Matcher{EventType: presetEnrolled},
		ReturnEvent: journeys.Matcher{EventType: presetLessonCompleted},
		Period:      timerange.GrainWeek, Periods: 8,
	}
	paths := &journeys.PathsRequest{StartEvent: &journeys.Matcher{EventType: presetEnrolled}, Steps: 4, MaxEdges: 20}
	widgets := []WidgetInput{
		{Title: "Learner journey funnel", Kind: KindFunnel, Journey: &journeys.Query{Funnel: funnel}, Position: Position{X: 0, Y: 0, W: 12, H: 5}},
		{Title: "Weekly retention after enrolling", Kind: KindRetention, Journey: &journeys.Query{Retention: retention}, Position: Position{X: 0, Y: 5, W: 12, H: 5}},
		{Title: "What learners do after enrolling", Kind: KindPaths, Journey: &journeys.Query{Paths: paths}, Position: Position{X: 0, Y: 10, W: 12, H: 5}},
	}
	return in, widgets
}

// installJourneyPreset installs the learner-journey dashboard for the
// tenant (unless it has or had one) on a server that answers journeys;
// it reports whether a read should look again.
func (s *Service) installJourneyPreset(ctx context.Context, scope store.Scope) (bool, error) {
	if s.cfg.Journeys == nil {
		return false, nil
	}
	in, widgets := JourneyPreset()
	return true, s.installPreset(ctx, scope, in, widgets)
}
