package insights

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/metrics"
)

// Parser defaults: the periods assumed when a question names none.
const (
	defaultWhatIsDays   = 30
	defaultForecastDays = 30
	forecastHistoryDays = 120
	unusualWarmupDays   = 56
	// MaxQuestionLength bounds a question (characters).
	MaxQuestionLength = 500
)

// synonyms are extra phrases for the learning catalog's metric keys; a
// tenant's own metrics match by key and name.
var synonyms = map[string][]string{
	"course_completions":     {"completions", "courses completed", "completed courses", "course completion"},
	"enrolments":             {"enrollments", "enrolment", "enrollment", "enrolled", "sign ups", "signups"},
	"lesson_completions":     {"lessons completed", "completed lessons", "lesson completion"},
	"certificates_issued":    {"certificates", "certificate", "certifications"},
	"quiz_submissions":       {"quizzes submitted", "quiz attempts", "quizzes taken", "quiz submission"},
	"quiz_passes":            {"passed quizzes", "quizzes passed", "quiz pass"},
	"course_completion_rate": {"completion rate", "completion rates"},
	"quiz_pass_rate":         {"pass rate", "pass rates"},
	"avg_quiz_score":         {"average quiz score", "quiz score", "quiz scores", "average score", "mean quiz score"},
	"learning_minutes":       {"minutes watched", "watch time", "video minutes", "minutes of video", "learning time"},
	"new_learners":           {"new users", "new students", "first-time learners"},
	"active_learners_dau":    {"active learners", "daily active users", "dau", "active users"},
	"active_learners_wau":    {"weekly active users", "wau"},
	"active_learners_mau":    {"monthly active users", "mau"},
}

// dimensionWords name dimension paths in questions.
var dimensionWords = map[string][]string{
	"properties.course_id": {"course", "courses", "course id"},
	"type":                 {"event type", "type", "types", "event types"},
}

var (
	months     = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
	monthRe    = regexp.MustCompile(`\b(january|february|march|april|may|june|july|august|september|october|november|december)(?:\s+(\d{4}))?\b`)
	lastRe     = regexp.MustCompile(`\b(?:last|past|previous)\s+(\d{1,3})\s+(days?|weeks?|months?)\b`)
	nextRe     = regexp.MustCompile(`\b(?:next|coming)\s+(?:(\d{1,3})\s+)?(days?|weeks?|months?)\b`)
	sinceRe    = regexp.MustCompile(`\bsince\s+(\d{4}-\d{2}-\d{2}|(?:january|february|march|april|may|june|july|august|september|october|november|december)(?:\s+\d{4})?)\b`)
	rangeRe    = regexp.MustCompile(`\bfrom\s+(\d{4}-\d{2}-\d{2})\s+(?:to|until|through)\s+(\d{4}-\d{2}-\d{2})\b`)
	cmpRe      = regexp.MustCompile(`\b(?:compared\s+(?:to|with)|versus|vs\.?|than\s+in|than)\s+`)
	identRe    = regexp.MustCompile(`\b[a-z0-9]+(?:[-_][a-z0-9]+)+\b`)
	byAnyRe    = regexp.MustCompile(`\b(?:by|per|for each|broken down by|split by)\s+([a-z][a-z ]*?)\s*(?:\bin\b|\bsince\b|\blast\b|\bfor\b|\bfrom\b|$)`)
	byRe       = regexp.MustCompile(`\b(?:by|per|for each|broken down by|split by|across)\s+(event types?|types?|courses?|course id)\b`)
	whyRe      = regexp.MustCompile(`\b(?:why|what caused|what drove|what explains|explain)\b`)
	changeRe   = regexp.MustCompile(`\b(?:drop|dropped|dropping|fall|fell|falling|decline|declined|declining|decrease|decreased|down|dip|dipped|rise|rose|rising|increase|increased|grow|grew|growing|up|change|changed|jump|jumped|spike|spiked|lower|higher)\b`)
	unusualRe  = regexp.MustCompile(`\b(?:unusual|anomal\w*|odd|strange|outliers?|weird|abnormal)\b`)
	forecastRe = regexp.MustCompile(`\b(?:forecast\w*|predict\w*|will be|expect\w*|projection|project)\b`)
	cohortRe   = regexp.MustCompile(`\bcohorts?\b`)
	whatRe     = regexp.MustCompile(`\b(?:what|how many|how much|total|show|count|number of|give me|list)\b`)
	refuseRe   = regexp.MustCompile(`\b(?:delete|insert|update|truncate|alter|grant|password|token|secret)\b`)
	spaceRe    = regexp.MustCompile(`\s+`)
)

// catalogEntry is one metric with the phrases that name it.
type catalogEntry struct {
	def     *metrics.Definition
	phrases []string
}

// Parser reads questions against one tenant's metrics and cohorts.
type Parser struct {
	entries []catalogEntry
	cohorts []string
	now     time.Time
}

// NewParser returns a parser for the tenant's active metrics and cohort
// names, resolving relative periods against now.
func NewParser(defs []*metrics.Definition, cohortNames []string, now time.Time) *Parser {
	p := &Parser{cohorts: cohortNames, now: now.UTC()}
	for _, d := range defs {
		phrases := []string{strings.ToLower(d.Name), strings.ReplaceAll(d.Key, "_", " "), d.Key}
		phrases = append(phrases, synonyms[d.Key]...)
		for _, ph := range slices.Clone(phrases) {
			if strings.HasSuffix(ph, "s") {
				phrases = append(phrases, strings.TrimSuffix(ph, "s"))
			}
		}
		p.entries = append(p.entries, catalogEntry{def: d, phrases: phrases})
	}
	return p
}

// Parse interprets q. A question it cannot read comes back with Kind
// KindDeclined and the reason in Assumptions.
func (p *Parser) Parse(q string, ctx Context) Interpretation {
	text := " " + spaceRe.ReplaceAllString(strings.ToLower(strings.TrimSpace(q)), " ") + " "
	text = strings.NewReplacer("?", " ", "!", " ", ",", " ", "’", "'").Replace(text)
	in := Interpretation{Tokens: []Token{}}
	if refuseRe.MatchString(text) {
		return decline(in, "the question asks for something other than reading metrics")
	}
	main, cmp := text, ""
	if loc := cmpRe.FindStringIndex(text); loc != nil {
		main, cmp = text[:loc[0]], text[loc[1]:]
	}

	// The kind first: the words that say what is asked.
	switch {
	case cohortRe.MatchString(text):
		in.Kind = KindCohort
	case whyRe.MatchString(main) && (changeRe.MatchString(main) || cmp != ""):
		in.Kind = KindWhyChanged
	case unusualRe.MatchString(main):
		in.Kind = KindUnusual
	case forecastRe.MatchString(main) || nextRe.MatchString(main):
		in.Kind = KindForecast
	case byRe.MatchString(main):
		in.Kind = KindByDimension
	case whatRe.MatchString(main):
		in.Kind = KindWhatIs
	}
	if in.Kind == KindCohort {
		return p.parseCohort(text, in)
	}

	// The metric: the longest phrase of any metric, else the context's.
	def, phrase := p.metric(main)
	if def == nil && ctx.MetricKey != "" {
		for _, e := range p.entries {
			if e.def.Key == ctx.MetricKey {
				def, phrase = e.def, "(context)"
			}
		}
	}
	if def == nil {
		return decline(in, "no metric of this tenant is named in the question")
	}
	in.MetricKey, in.MetricName = def.Key, def.Name
	in.Tokens = append(in.Tokens, Token{Text: phrase, Role: "metric", Read: def.Key})
	if per, _ := p.period(main); in.Kind == "" && per != nil && !whyRe.MatchString(main) {
		in.Kind = KindWhatIs // "lesson completions last week"
	}
	if in.Kind == "" {
		if whyRe.MatchString(main) {
			return decline(in, "a why question needs a change to explain (dropped, rose, changed …)")
		}
		return decline(in, "the question does not say what to do with "+def.Name)
	}

	// Dimension and filters.
	if m := byAnyRe.FindStringSubmatch(main); m != nil && !byRe.MatchString(main) {
		return decline(in, fmt.Sprintf("%s cannot be split by %q; it allows %s", def.Name, strings.TrimSpace(m[1]), dimList(def)))
	}
	if m := byRe.FindStringSubmatch(main); m != nil {
		in.Tokens = append(in.Tokens, Token{Text: m[0], Role: "dimension", Read: ""})
		dim := dimensionFor(m[1], def)
		if dim == "" {
			return decline(in, fmt.Sprintf("%s cannot be split by %q; it allows %s", def.Name, m[1], dimList(def)))
		}
		in.Dimension = dim
		in.Tokens[len(in.Tokens)-1].Read = dim
	}
	for _, id := range identRe.FindAllString(main, -1) {
		if strings.ContainsAny(id, "0123456789") && strings.ContainsAny(id, "abcdefghijklmnopqrstuvwxyz") && hasDimension(def, "properties.course_id") && id != def.Key {
			in.Filters = append(in.Filters, Condition{Dimension: "properties.course_id", Op: "eq", Values: []string{id}})
			in.Tokens = append(in.Tokens, Token{Text: id, Role: "filter", Read: "properties.course_id = " + id})
		}
	}
	in.Filters = append(in.Filters, ctx.Filters...)

	// Periods.
	period, ptok := p.period(main)
	if period == nil && ctx.From != nil && ctx.To != nil {
		period = &Period{From: ctx.From.UTC(), To: ctx.To.UTC(), Label: label(ctx.From.UTC(), ctx.To.UTC())}
		ptok = "(context time range)"
	}
	if ptok != "" {
		in.Tokens = append(in.Tokens, Token{Text: ptok, Role: "period", Read: period.Label})
	}
	today := p.now.Truncate(24 * time.Hour)
	switch in.Kind {
	case KindForecast:
		h := defaultForecastDays
		if m := nextRe.FindStringSubmatch(main); m != nil {
			n := 1
			if m[1] != "" {
				n, _ = strconv.Atoi(m[1])
			}
			h = n * unitDays(m[2])
			in.Tokens = append(in.Tokens, Token{Text: m[0], Role: "horizon", Read: strconv.Itoa(h) + " days"})
		} else {
			in.Assumptions = append(in.Assumptions, fmt.Sprintf("no horizon given: forecasting the next %d days", h))
		}
		if h > MaxForecastDays {
			return decline(in, fmt.Sprintf("forecasts reach at most %d days ahead", MaxForecastDays))
		}
		in.Horizon = h
		from := today.AddDate(0, 0, -forecastHistoryDays)
		in.Period = &Period{From: from, To: today, Label: label(from, today)}
		in.Assumptions = append(in.Assumptions, fmt.Sprintf("history: the last %d days", forecastHistoryDays))
		return in
	case KindWhyChanged:
		if period == nil {
			from := today.AddDate(0, 0, -defaultWhatIsDays)
			period = &Period{From: from, To: today, Label: label(from, today)}
			in.Assumptions = append(in.Assumptions, fmt.Sprintf("no period given: the last %d days", defaultWhatIsDays))
		}
		in.Period = period
		if c, tok := p.period(cmp); c != nil {
			in.Compare = c
			in.Tokens = append(in.Tokens, Token{Text: tok, Role: "compare", Read: c.Label})
		} else {
			in.Compare = previous(*period)
			in.Assumptions = append(in.Assumptions, "compared with the period just before: "+in.Compare.Label)
		}
		return in
	}
	if period == nil {
		from := today.AddDate(0, 0, -defaultWhatIsDays)
		period = &Period{From: from, To: today, Label: label(from, today)}
		in.Assumptions = append(in.Assumptions, fmt.Sprintf("no period given: the last %d days", defaultWhatIsDays))
	}
	in.Period = period
	return in
}

// parseCohort reads a cohort question.
func (p *Parser) parseCohort(text string, in Interpretation) Interpretation {
	best := ""
	for _, n := range p.cohorts {
		if strings.Contains(text, strings.ToLower(n)) && len(n) > len(best) {
			best = n
		}
	}
	if best == "" {
		return decline(in, "no cohort of this tenant is named in the question (cohorts: "+quoteList(p.cohorts)+")")
	}
	in.Cohort = best
	in.Tokens = append(in.Tokens, Token{Text: strings.ToLower(best), Role: "cohort", Read: best})
	return in
}

// metric finds the metric named in text by its longest phrase; ties keep
// the first catalog entry.
func (p *Parser) metric(text string) (*metrics.Definition, string) {
	var best *metrics.Definition
	phrase := ""
	for _, e := range p.entries {
		for _, ph := range e.phrases {
			if len(ph) > len(phrase) && containsWord(text, ph) {
				best, phrase = e.def, ph
			}
		}
	}
	return best, phrase
}

// period reads the first period named in text.
func (p *Parser) period(text string) (*Period, string) {
	today := p.now.Truncate(24 * time.Hour)
	if m := rangeRe.FindStringSubmatch(text); m != nil {
		from, err1 := time.Parse(time.DateOnly, m[1])
		to, err2 := time.Parse(time.DateOnly, m[2])
		if err1 == nil && err2 == nil && !to.Before(from) {
			to = to.AddDate(0, 0, 1)
			return &Period{From: from, To: to, Label: label(from, to)}, m[0]
		}
	}
	if m := sinceRe.FindStringSubmatch(text); m != nil {
		from, ok := p.parseDay(m[1])
		if ok && from.Before(today) {
			return &Period{From: from, To: today, Label: label(from, today)}, m[0]
		}
	}
	if m := lastRe.FindStringSubmatch(text); m != nil {
		n, _ := strconv.Atoi(m[1])
		if strings.HasPrefix(m[2], "month") {
			start := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
			from := start.AddDate(0, -n, 0)
			return &Period{From: from, To: start, Label: label(from, start)}, m[0]
		}
		from := today.AddDate(0, 0, -n*unitDays(m[2]))
		return &Period{From: from, To: today, Label: label(from, today)}, m[0]
	}
	if m := monthRe.FindStringSubmatch(text); m != nil {
		from := p.month(m[1], m[2])
		to := from.AddDate(0, 1, 0)
		if to.After(today) {
			to = today
		}
		if !from.Before(to) {
			return nil, ""
		}
		return &Period{From: from, To: to, Label: label(from, to)}, m[0]
	}
	start := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	switch {
	case containsWord(text, "last month") || containsWord(text, "previous month"):
		from := start.AddDate(0, -1, 0)
		return &Period{From: from, To: start, Label: label(from, start)}, "last month"
	case containsWord(text, "this month") && start.Before(today):
		return &Period{From: start, To: today, Label: label(start, today)}, "this month"
	case containsWord(text, "last week") || containsWord(text, "past week"):
		from := today.AddDate(0, 0, -7)
		return &Period{From: from, To: today, Label: label(from, today)}, "last week"
	case containsWord(text, "yesterday"):
		from := today.AddDate(0, 0, -1)
		return &Period{From: from, To: today, Label: label(from, today)}, "yesterday"
	}
	return nil, ""
}

// month is the start of the named month: in year when given, else the
// latest one that has begun by now.
func (p *Parser) month(name, year string) time.Time {
	m := time.Month(slices.Index(months, name) + 1)
	if year != "" {
		y, _ := strconv.Atoi(year)
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	}
	t := time.Date(p.now.Year(), m, 1, 0, 0, 0, 0, time.UTC)
	if t.After(p.now) {
		t = t.AddDate(-1, 0, 0)
	}
	return t
}

// parseDay reads a day or a month start.
func (p *Parser) parseDay(s string) (time.Time, bool) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	f := strings.Fields(s)
	year := ""
	if len(f) > 1 {
		year = f[1]
	}
	return p.month(f[0], year), true
}

// previous is the comparison period of p: the calendar month before a
// calendar month, else the same length just before.
func previous(p Period) *Period {
	if p.From.Day() == 1 && p.From.AddDate(0, 1, 0).Equal(p.To) {
		from := p.From.AddDate(0, -1, 0)
		return &Period{From: from, To: p.From, Label: label(from, p.From)}
	}
	from := p.From.Add(-p.To.Sub(p.From))
	return &Period{From: from, To: p.From, Label: label(from, p.From)}
}

func decline(in Interpretation, why string) Interpretation {
	in.Kind = KindDeclined
	in.Assumptions = append(in.Assumptions, why)
	return in
}

func unitDays(unit string) int {
	switch {
	case strings.HasPrefix(unit, "week"):
		return 7
	case strings.HasPrefix(unit, "month"):
		return 30
	}
	return 1
}

// dimensionFor maps a dimension word to one of def's dimension paths.
func dimensionFor(word string, def *metrics.Definition) string {
	for path, words := range dimensionWords {
		if slices.Contains(words, word) && hasDimension(def, path) {
			return path
		}
	}
	return ""
}

func hasDimension(def *metrics.Definition, path string) bool {
	return slices.ContainsFunc(def.Dimensions, func(d metrics.Dimension) bool { return d.Path == path })
}

func dimList(def *metrics.Definition) string {
	var names []string
	for _, d := range def.Dimensions {
		names = append(names, d.Path)
	}
	return quoteList(names)
}

// containsWord reports whether phrase occurs in text on word boundaries.
func containsWord(text, phrase string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], phrase)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || !isWordByte(text[j-1])
		end := j + len(phrase)
		after := end == len(text) || !isWordByte(text[end])
		if before && after {
			return true
		}
		i = j + 1
	}
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '-'
}
