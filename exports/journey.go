package exports

import (
	"context"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/journeys"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// Journey exports: a funnel, a retention triangle or paths, as the
// journeys service answers them, flattened to one table each (see
// funnelRows, retentionRows, pathsRows). The window is resolved when the
// export is requested, so a retried run reads the same one.

// JourneyRunner checks and answers journey queries for the caller's
// tenant (*journeys.Service implements it).
type JourneyRunner = journeys.Runner

// journeyField is how errors name a journey source: funnel, retention or paths.
func journeyField(k journeys.Kind) string { return strings.ToLower(string(k)) }

// validateJourney checks a journey source: its range (resolved into the
// spec, and within the engine's horizon), its cohorts (the tenant's) and
// the query itself.
func (s *Service) validateJourney(ctx context.Context, q *journeys.Query) error {
	const op = "exports.Request"
	if s.deps.Journeys == nil {
		return errs.E(op, errs.KindInternal, "journey exports are not configured")
	}
	prefix := journeyField(q.Kind()) + "."
	loc, err := timerange.Location(q.TimeZone(), prefix+"timezone")
	if err != nil {
		return err
	}
	rng, err := timerange.ResolveIn(q.TimeRange(), s.cfg.Now(), loc, prefix+"timeRange")
	if err != nil {
		return err
	}
	if err := metrics.CheckRanges(s.cfg.CheckRange, rng, nil, prefix); err != nil {
		return err
	}
	*q = q.Over(rng, "")
	if refs := q.CohortRefs(prefix); len(refs) > 0 {
		if s.deps.Cohorts == nil {
			return errs.Invalid(op, refs[0].Field, refs[0].Field+": cohorts are not available here on this server")
		}
		if _, err := s.deps.Cohorts.CheckCohorts(ctx, op, refs); err != nil {
			return err
		}
	}
	return s.deps.Journeys.Check(ctx, *q, prefix)
}

// openJourney answers a journey source and lays it out as rows.
func (s *Service) openJourney(ctx context.Context, q journeys.Query) (rowStream, error) {
	if s.deps.Journeys == nil {
		return nil, errs.E("exports.run", errs.KindInternal, "journey exports are not configured")
	}
	a, err := s.deps.Journeys.Run(ctx, q, journeyField(q.Kind())+".")
	if err != nil {
		return nil, err
	}
	switch {
	case a.Funnel != nil:
		return funnelRows(a.Funnel), nil
	case a.Retention != nil:
		return retentionRows(a.Retention), nil
	}
	return pathsRows(a.Paths), nil
}

// Column types of journey files.
const (
	colText    = "String"
	colOptText = "Nullable(String)"
	colInt     = "Int64"
	colFloat   = "Float64"
	colOptNum  = "Nullable(Float64)"
	colOptTime = "Nullable(DateTime64(3, 'UTC'))"
)

func columns(namesAndTypes ...string) []store.Column {
	out := make([]store.Column, 0, len(namesAndTypes)/2)
	for i := 0; i+1 < len(namesAndTypes); i += 2 {
		out = append(out, store.Column{Name: namesAndTypes[i], Type: namesAndTypes[i+1]})
	}
	return out
}

// funnelRows is one row per step: all users first (breakdown null), then
// each breakdown value's steps ("$other" gathers the rest).
func funnelRows(res *journeys.FunnelResult) rowStream {
	out := &sliceStream{cols: columns("breakdown", colOptText, "step", colInt, "label", colText, "event_type", colText,
		"entered", colInt, "converted", colInt, "conversion_from_first", colFloat, "conversion_from_previous", colFloat,
		"conversion", colFloat, "drop_off", colInt, "drop_off_rate", colFloat,
		"median_seconds_to_convert", colOptNum, "p90_seconds_to_convert", colOptNum)}
	add := func(value any, steps []journeys.StepResult) {
		for _, st := range steps {
			out.rows = append(out.rows, []any{value, int64(st.Step), st.Label, st.EventType, st.Entered, st.Converted,
				st.ConversionFromFirst, st.ConversionFromPrevious, st.Conversion, st.DropOff, st.DropOffRate,
				optSeconds(st.MedianTimeToConvert), optSeconds(st.P90TimeToConvert)})
		}
	}
	add(nil, res.Steps)
	for _, b := range res.Breakdowns {
		add(b.Value, b.Steps)
	}
	return out
}

// retentionRows is one row per cell: per breakdown (null for all users),
// per cohort (its start; null for the weighted mean row), per offset.
func retentionRows(res *journeys.RetentionResult) rowStream {
	out := &sliceStream{cols: columns("breakdown", colOptText, "cohort_start", colOptTime, "cohort_size", colInt,
		"offset", colInt, "users", colInt, "rate", colFloat)}
	add := func(value any, t journeys.RetentionTable) {
		var total int64
		for _, c := range t.Cohorts {
			total += c.Size
			for _, cell := range c.Cells {
				out.rows = append(out.rows, []any{value, c.Start, c.Size, int64(cell.Offset), cell.Users, cell.Rate})
			}
		}
		for _, cell := range t.Mean {
			out.rows = append(out.rows, []any{value, nil, total, int64(cell.Offset), cell.Users, cell.Rate})
		}
	}
	add(nil, res.RetentionTable)
	for _, b := range res.Breakdowns {
		add(b.Value, b.RetentionTable)
	}
	return out
}

// pathsRows is the Sankey as its edges (step, from, to, users) followed by
// its nodes (step, event type as from, no to, users).
func pathsRows(res *journeys.PathsResult) rowStream {
	out := &sliceStream{cols: columns("kind", colText, "step", colInt, "from", colText, "to", colOptText, "users", colInt)}
	for _, e := range res.Edges {
		out.rows = append(out.rows, []any{"edge", int64(e.Step), e.From, e.To, e.Users})
	}
	for _, n := range res.Nodes {
		out.rows = append(out.rows, []any{"node", int64(n.Step), n.EventType, nil, n.Users})
	}
	return out
}

// optSeconds is a duration in seconds, or null.
func optSeconds(d *time.Duration) any {
	if d == nil {
		return nil
	}
	return d.Seconds()
}
