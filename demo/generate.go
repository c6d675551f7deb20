package demo

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/learnhub/analytics-service/ingest"
)

// course is one generated course.
type course struct {
	id      string
	lessons int
	videos  []int // seconds per lesson video
}

// learner generates one learner's events.
type learner struct {
	rng     *rand.Rand
	tenant  string
	id      string
	seq     int
	engaged float64 // 0..1: more engaged learners drop off less and come back sooner
	from    time.Time
	end     time.Time
	anomaly [2]time.Time // [start, end) of the completion drop; zero when not this tenant
	days    map[int64]time.Time
	out     []ingest.Event
}

// Generate returns the events for opts, deterministic for the same opts.
func Generate(opts Options) []ingest.Event {
	opts = opts.withDefaults()
	from := opts.End.AddDate(0, 0, -opts.Days)
	anomalyStart := AnomalyMonth(opts)
	var total float64
	for _, t := range opts.Tenants {
		total += t.Share
	}
	var out []ingest.Event
	for ti, t := range opts.Tenants {
		courses := makeCourses(rand.New(rand.NewPCG(opts.Seed, uint64(ti)<<32)), t)
		n := int(math.Round(float64(opts.Learners) * t.Share / total))
		for li := range n {
			l := &learner{
				rng:    rand.New(rand.NewPCG(opts.Seed, uint64(ti)<<32|uint64(li+1))),
				tenant: t.ID, id: fmt.Sprintf("learner-%05d", li+1),
				from: from, end: opts.End, days: map[int64]time.Time{},
			}
			if t.ID == AnomalyTenant {
				l.anomaly = [2]time.Time{anomalyStart, anomalyStart.AddDate(0, 1, 0)}
			}
			l.generate(courses)
			out = append(out, l.out...)
		}
	}
	slices.SortStableFunc(out, func(a, b ingest.Event) int { return a.OccurredAt.Compare(b.OccurredAt) })
	return out
}

func makeCourses(rng *rand.Rand, t Tenant) []course {
	cs := make([]course, max(t.Courses, 1))
	for i := range cs {
		c := course{id: fmt.Sprintf("%s-course-%02d", t.ID, i+1), lessons: 6 + rng.IntN(9)}
		for range c.lessons {
			c.videos = append(c.videos, 180+rng.IntN(720))
		}
		cs[i] = c
	}
	return cs
}

// generate plays the learner's enrolments through the funnel.
func (l *learner) generate(courses []course) {
	l.engaged = math.Pow(l.rng.Float64(), 0.7)
	period := l.end.Sub(l.from)
	signup := l.from.Add(time.Duration(l.rng.Float64() * float64(period)))
	enrolments := 1 + l.poisson(0.4+1.2*l.engaged)
	at := signup
	for range min(enrolments, 4) {
		at = l.nextActiveTime(at, 0.25)
		if !at.Before(l.end) {
			return
		}
		c := courses[l.zipf(len(courses))]
		l.course(c, at)
		at = at.Add(time.Duration(l.rng.IntN(21*24)) * time.Hour)
	}
}

// course emits enrolment, lessons, quizzes, assignments and the completion.
func (l *learner) course(c course, at time.Time) {
	props := map[string]any{"course_id": c.id}
	l.emit(ingest.TypeCourseEnrolled, at, props)
	var scores []float64
	for i := range c.lessons {
		if l.rng.Float64() < 0.05+0.10*(1-l.engaged) {
			return // dropped off
		}
		at = l.nextActiveTime(at, 0.2+0.5*l.engaged)
		if !at.Before(l.end) {
			return // still in progress at the end of the period
		}
		lesson := fmt.Sprintf("%s-lesson-%02d", c.id, i+1)
		lp := map[string]any{"course_id": c.id, "lesson_id": lesson}
		l.emit(ingest.TypeLessonStarted, at, lp)
		watched := int(float64(c.videos[i]) * min(1, 0.35+0.65*math.Sqrt(l.rng.Float64())))
		l.emit(ingest.TypeVideoWatched, at.Add(time.Minute), map[string]any{"course_id": c.id, "lesson_id": lesson, "seconds": watched})
		at = at.Add(time.Duration(watched)*time.Second + time.Duration(5+l.rng.IntN(25))*time.Minute)
		l.emit(ingest.TypeLessonCompleted, at, lp)
		if l.rng.Float64() < 0.3 {
			l.emit(ingest.TypeAssignmentSubmitted, at.Add(time.Duration(10+l.rng.IntN(120))*time.Minute),
				map[string]any{"course_id": c.id, "assignment_id": lesson + "-assignment"})
		}
		if (i+1)%3 == 0 || i == c.lessons-1 {
			score := math.Round(100*l.beta(7.2, 2.8)*10) / 10
			scores = append(scores, score)
			at = at.Add(time.Duration(2+l.rng.IntN(15)) * time.Minute)
			l.emit(ingest.TypeQuizSubmitted, at, map[string]any{"course_id": c.id, "quiz_id": lesson + "-quiz", "score": score})
		}
	}
	done := at.Add(time.Duration(1+l.rng.IntN(30)) * time.Minute)
	if !done.Before(l.end) {
		return
	}
	if !l.anomaly[0].IsZero() && !done.Before(l.anomaly[0]) && done.Before(l.anomaly[1]) && l.rng.Float64() < AnomalyDrop {
		return // the planted anomaly: this completion is never recorded
	}
	l.emit(ingest.TypeCourseCompleted, done, props)
	var sum float64
	for _, s := range scores {
		sum += s
	}
	if len(scores) > 0 && sum/float64(len(scores)) >= 60 && l.rng.Float64() < 0.95 {
		l.emit(ingest.TypeCertificateIssued, done.Add(time.Duration(1+l.rng.IntN(10))*time.Minute),
			map[string]any{"course_id": c.id, "certificate_id": fmt.Sprintf("cert-%s-%s", l.id, c.id)})
	}
}

// emit records one event, with a login first on each new active day.
func (l *learner) emit(typ string, at time.Time, props map[string]any) {
	if !at.Before(l.end) || at.Before(l.from) {
		return
	}
	day := at.Unix() / 86400
	if _, seen := l.days[day]; !seen {
		l.days[day] = at
		l.add(ingest.TypeUserLogin, at.Add(-time.Duration(1+l.rng.IntN(5))*time.Minute), day, map[string]any{"device": l.device()})
	}
	l.add(typ, at, day, props)
}

func (l *learner) add(typ string, at time.Time, day int64, props map[string]any) {
	l.seq++
	raw, _ := json.Marshal(props)
	l.out = append(l.out, ingest.Event{
		ID:         fmt.Sprintf("%s-%s-%d", l.tenant, l.id, l.seq),
		TenantID:   l.tenant,
		Type:       typ,
		UserID:     l.id,
		SessionID:  fmt.Sprintf("%s-%d", l.id, day),
		OccurredAt: at.UTC().Truncate(time.Millisecond),
		Properties: raw,
	})
}

// nextActiveTime picks a later day (sooner for higher rate), accepting
// weekdays more often than weekends, and a time of day with a mid-morning
// and an evening peak.
func (l *learner) nextActiveTime(after time.Time, rate float64) time.Time {
	day := after.Truncate(24*time.Hour).AddDate(0, 0, 1+l.geometric(rate))
	for l.rng.Float64() > weekdayWeight(day.Weekday()) {
		day = day.AddDate(0, 0, 1)
	}
	hour := 10.0 + l.rng.NormFloat64()*1.8
	if l.rng.Float64() < 0.45 {
		hour = 20.0 + l.rng.NormFloat64()*1.5
	}
	hour = math.Min(math.Max(hour, 6), 23.5)
	return day.Add(time.Duration(hour * float64(time.Hour)))
}

func weekdayWeight(d time.Weekday) float64 {
	switch d {
	case time.Saturday:
		return 0.45
	case time.Sunday:
		return 0.35
	}
	return 1
}

func (l *learner) device() string {
	switch r := l.rng.Float64(); {
	case r < 0.55:
		return "web"
	case r < 0.85:
		return "ios"
	default:
		return "android"
	}
}

// geometric is the number of failures before a success of probability p.
func (l *learner) geometric(p float64) int {
	n := 0
	for l.rng.Float64() > p && n < 60 {
		n++
	}
	return n
}

func (l *learner) poisson(lambda float64) int {
	limit, k, p := math.Exp(-lambda), 0, l.rng.Float64()
	for p > limit {
		k++
		p *= l.rng.Float64()
	}
	return k
}

// zipf picks an index in [0, n) with weight 1/(i+1).
func (l *learner) zipf(n int) int {
	var total float64
	for i := range n {
		total += 1 / float64(i+1)
	}
	r := l.rng.Float64() * total
	for i := range n {
		r -= 1 / float64(i+1)
		if r <= 0 {
			return i
		}
	}
	return n - 1
}

// beta samples Beta(a, b) from two gamma variates.
func (l *learner) beta(a, b float64) float64 {
	x, y := l.gamma(a), l.gamma(b)
	return x / (x + y)
}

// gamma samples Gamma(k, 1) for k ≥ 1 (Marsaglia and Tsang).
func (l *learner) gamma(k float64) float64 {
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := l.rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := l.rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}
