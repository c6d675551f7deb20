package monitors

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/anomaly"
	"github.com/learnhub/analytics-service/metrics"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/timerange"
)

// validate checks m field by field (errors name the field), fills the
// defaults that are stored (name, detector, sensitivity) and compiles its metric
// request once, so a filter or dimension the metric does not allow is
// refused now rather than at every tick.
func (s *Service) validate(ctx context.Context, m *Monitor) error {
	const op = "monitors.validate"
	if m.MetricKey == "" {
		return errs.Invalid(op, "metricKey", "metricKey is required: the key of one of your metrics, e.g. course_completions")
	}
	def, err := s.defs.GetByKey(ctx, m.MetricKey)
	if errs.Is(err, errs.KindNotFound) {
		return errs.Invalid(op, "metricKey", fmt.Sprintf("metricKey: no metric %q is defined for your tenant; list them with the metrics query", m.MetricKey))
	}
	if err != nil {
		return err
	}
	if m.Name == "" {
		m.Name = def.Name
	}
	if len(m.Name) > 200 {
		return errs.Invalid(op, "name", "name: at most 200 characters")
	}
	if err := checkGrain(m.Grain, "grain"); err != nil {
		return err
	}
	if m.Detector != "" && !slices.Contains(anomaly.DetectorNames(), m.Detector) {
		return errs.Invalid(op, "detector", fmt.Sprintf("detector: unknown detector %q; use one of %s", m.Detector, strings.Join(anomaly.DetectorNames(), ", ")))
	}
	if m.Detector == "" {
		m.Detector = defaultDetector(def, m.Grain)
	}
	if m.Sensitivity == "" {
		m.Sensitivity = SensitivityMedium
	}
	if _, ok := thresholds[m.Sensitivity]; !ok {
		return errs.Invalid(op, "sensitivity", fmt.Sprintf("sensitivity: %q is not one of LOW, MEDIUM, HIGH", m.Sensitivity))
	}
	if m.Threshold < 0 || m.Threshold >= 1 {
		return errs.Invalid(op, "threshold", fmt.Sprintf("threshold: %v is outside [0, 1); give a score such as 0.99, or 0 to use the sensitivity", m.Threshold))
	}
	if m.MinHistory < 0 || m.MinHistory >= m.history() {
		return errs.Invalid(op, "minHistory", fmt.Sprintf("minHistory: %d buckets; use 0 (the default) to %d", m.MinHistory, m.history()-1))
	}
	if err := s.checkReview(m); err != nil {
		return err
	}
	if len(m.Dimensions) > MaxDimensions {
		return errs.Invalid(op, "dimensions", fmt.Sprintf("dimensions: at most %d", MaxDimensions))
	}
	if m.TopN < 0 || m.TopN > MaxTopN {
		return errs.Invalid(op, "topN", fmt.Sprintf("topN: %d; use 1 to %d (0 means %d)", m.TopN, MaxTopN, DefaultTopN))
	}
	if q := m.QuietHours; q != nil {
		if q.From < 0 || q.From > 23 || q.To < 0 || q.To > 23 {
			return errs.Invalid(op, "quietHours", fmt.Sprintf("quietHours: from %d and to %d must be hours 0 to 23", q.From, q.To))
		}
		if _, err := timerange.Location(q.Timezone, "quietHours.timezone"); err != nil {
			return err
		}
	}
	// Compile and run the request over one bucket: the metric layer names
	// a bad filter or dimension (filters[0].dimension, dimensions[1]).
	end := s.cfg.Now().UTC()
	req := m.request(timerange.Range{From: m.Grain.Truncate(end, time.UTC), To: end.Add(1)})
	_, errList := s.query.QueryBatch(ctx, []metrics.Request{req})
	return errList[0]
}

// checkReview accepts OFF, EXPLAIN and RERANK, the last two only with the
// AI gateway configured; OFF is stored as empty.
func (s *Service) checkReview(m *Monitor) error {
	const op = "monitors.validate"
	switch m.LLMReview {
	case "", ReviewOff:
		m.LLMReview = ""
		return nil
	case ReviewExplain, ReviewRerank:
		if s.cfg.Reviewer == nil {
			return errs.Invalid(op, "llmReview", fmt.Sprintf("llmReview: the AI gateway is not configured (ANALYTICS_AI_URL); use OFF, or configure the gateway to use %s", m.LLMReview))
		}
		return nil
	}
	return errs.Invalid(op, "llmReview", fmt.Sprintf("llmReview: %q is not one of OFF, EXPLAIN, RERANK", m.LLMReview))
}

// checkGrain accepts HOUR and DAY.
func checkGrain(g metrics.Grain, field string) error {
	if g != GrainHour && g != GrainDay {
		return errs.Invalid("monitors.validate", field, fmt.Sprintf("%s: %q; a monitor evaluates HOUR or DAY buckets", field, g))
	}
	return nil
}

// request is m's metric request over r.
func (m *Monitor) request(r timerange.Range) metrics.Request {
	from, to := r.From, r.To
	return metrics.Request{MetricKey: m.MetricKey, Dimensions: m.Dimensions, Filters: m.Filters,
		TimeRange: timerange.Spec{From: &from, To: &to}, Grain: m.Grain, Limit: m.topN()}
}
