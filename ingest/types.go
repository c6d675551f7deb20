package ingest

import "strconv"

// The learning event types supported out of the box. Other types are
// accepted as they are; these also have their key properties checked.
const (
	TypeUserLogin           = "user.login"
	TypeCourseEnrolled      = "course.enrolled"
	TypeLessonStarted       = "lesson.started"
	TypeLessonCompleted     = "lesson.completed"
	TypeQuizSubmitted       = "quiz.submitted"       // properties.score: number in [0, 100]
	TypeAssignmentSubmitted = "assignment.submitted" // properties.assignment_id (free form)
	TypeVideoWatched        = "video.watched"        // properties.seconds: number in [0, 86400]
	TypeCourseCompleted     = "course.completed"
	TypeCertificateIssued   = "certificate.issued"
)

// maxVideoSeconds bounds video.watched seconds: one watch session of a day.
const maxVideoSeconds = 86400

// KnownTypes lists the learning types supported out of the box.
func KnownTypes() []string {
	return []string{TypeUserLogin, TypeCourseEnrolled, TypeLessonStarted, TypeLessonCompleted, TypeQuizSubmitted,
		TypeAssignmentSubmitted, TypeVideoWatched, TypeCourseCompleted, TypeCertificateIssued}
}

// checkProperties validates the properties a known type relies on. props is
// a valid JSON object already.
func checkProperties(typ string, props []byte) *Rejection {
	var key string
	var lo, hi float64
	switch typ {
	case TypeQuizSubmitted:
		key, lo, hi = "score", 0, 100
	case TypeVideoWatched:
		key, lo, hi = "seconds", 0, maxVideoSeconds
	default:
		return nil
	}
	raw, ok := lookup(props, key)
	if !ok {
		return reject(ReasonInvalidProperty, "properties."+key,
			"%s needs properties.%s, a number from %g to %g", typ, key, lo, hi)
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return reject(ReasonInvalidProperty, "properties."+key,
			"properties.%s of %s must be a number from %g to %g", key, typ, lo, hi)
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || v < lo || v > hi {
		return reject(ReasonInvalidProperty, "properties."+key,
			"properties.%s of %s must be a number from %g to %g", key, typ, lo, hi)
	}
	return nil
}
