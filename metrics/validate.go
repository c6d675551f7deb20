package metrics

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/learnhub/analytics-service/timerange"
)

// Limits of a definition.
const (
	maxEventTypes = 50
	maxDimensions = 30
	maxFilters    = 30
	maxTags       = 20
)

// keyRe is a metric key.
var keyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// valueKinds need a numeric Value.
var valueKinds = map[Kind]bool{KindSum: true, KindAvg: true, KindMin: true, KindMax: true, KindPercentile: true}

// Lookup finds a tenant's metric by key (the registry's current view).
type Lookup func(key string) (*Definition, bool)

// Validate checks a definition and its references. lookup resolves the
// keys RATIO, FORMULA and CUMULATIVE metrics use; d itself wins over a
// stored metric with the same key, so an update that would close a cycle
// is caught. Errors are KindInvalid and name the field.
func Validate(d *Definition, lookup Lookup) error {
	const op = "metrics.Validate"
	if !keyRe.MatchString(d.Key) {
		return invalid(op, "key", "key %q must be 1–64 characters: a lower-case letter, then lower-case letters, digits or _", d.Key)
	}
	if strings.TrimSpace(d.Name) == "" {
		return invalid(op, "name", "name is required")
	}
	if !slices.Contains(kinds, d.Kind) {
		return invalid(op, "kind", "kind %q is not a metric kind; use one of %v", d.Kind, kinds)
	}
	if _, err := timerange.ParseGrain(string(d.DefaultGrain), "defaultGrain"); err != nil {
		return err
	}
	if len(d.EventTypes) > maxEventTypes {
		return invalid(op, "eventTypes", "eventTypes has %d entries; at most %d are allowed", len(d.EventTypes), maxEventTypes)
	}
	for i, t := range d.EventTypes {
		if strings.TrimSpace(t) == "" || len(t) > 128 {
			return invalid(op, fmt.Sprintf("eventTypes[%d]", i), "eventTypes[%d] must be a non-empty event type of at most 128 characters", i)
		}
	}
	if len(d.Tags) > maxTags {
		return invalid(op, "tags", "tags has %d entries; at most %d are allowed", len(d.Tags), maxTags)
	}
	if err := validateDimensions(op, d); err != nil {
		return err
	}
	if err := validateKind(op, d, lookup); err != nil {
		return err
	}
	return validateFilters(op, d)
}

func validateDimensions(op string, d *Definition) error {
	if len(d.Dimensions) > maxDimensions {
		return invalid(op, "dimensions", "dimensions has %d entries; at most %d are allowed", len(d.Dimensions), maxDimensions)
	}
	seen := map[string]bool{}
	for i, dim := range d.Dimensions {
		field := fmt.Sprintf("dimensions[%d]", i)
		if err := checkPath(op, field, dim.Path, dim.Type); err != nil {
			return err
		}
		if seen[dim.Path] {
			return invalid(op, field, "%s %q is listed twice", field, dim.Path)
		}
		seen[dim.Path] = true
	}
	return nil
}

func validateKind(op string, d *Definition, lookup Lookup) error {
	if valueKinds[d.Kind] {
		if d.Value == nil || d.Value.Path == "" {
			return invalid(op, "value", "a %s metric needs value: a numeric property path such as properties.score", d.Kind)
		}
		if err := checkPath(op, "value.path", d.Value.Path, d.Value.Type); err != nil {
			return err
		}
		if d.Value.Type != TypeInt64 && d.Value.Type != TypeFloat64 {
			return invalid(op, "value.type", "value.type %q cannot be aggregated by %s; use Int64 or Float64", d.Value.Type, d.Kind)
		}
	}
	switch d.Kind {
	case KindPercentile:
		if d.Percentile <= 0 || d.Percentile >= 1 {
			return invalid(op, "percentile", "percentile %v must be between 0 and 1 exclusive, e.g. 0.95", d.Percentile)
		}
	case KindRatio:
		for field, key := range map[string]string{"numerator": d.Numerator, "denominator": d.Denominator} {
			if err := checkReference(op, field, d, key, lookup); err != nil {
				return err
			}
		}
	case KindFormula:
		e, err := ParseExpression(d.Expression)
		if err != nil {
			return invalid(op, "expression", "expression %q: %v", d.Expression, err)
		}
		if len(e.Idents()) == 0 {
			return invalid(op, "expression", "expression %q uses no metric; a formula combines other metrics' keys", d.Expression)
		}
		for _, key := range e.Idents() {
			if err := checkReference(op, "expression", d, key, lookup); err != nil {
				return err
			}
		}
	case KindCumulative:
		if err := checkReference(op, "base", d, d.Base, lookup); err != nil {
			return err
		}
		if b, _ := lookup(d.Base); b.Kind != KindCount && b.Kind != KindSum {
			return invalid(op, "base", "base %q is a %s metric; a running total needs an additive metric (COUNT or SUM)", d.Base, b.Kind)
		}
	case KindConversion:
		c := d.Conversion
		if c == nil || c.StartEvent == "" || c.EndEvent == "" {
			return invalid(op, "conversion", "a CONVERSION metric needs conversion.startEvent and conversion.endEvent")
		}
		if c.Window != "" {
			if _, err := timerange.ParseLast(c.Window); err != nil {
				return invalid(op, "conversion.window", "conversion.window: %v", err)
			}
		}
	}
	return checkCycle(op, d, lookup)
}

// checkReference checks one metric key a derived metric uses: it exists,
// is compatible (not a CONVERSION or CUMULATIVE, whose values do not
// combine per bucket), and allows every dimension d allows.
func checkReference(op, field string, d *Definition, key string, lookup Lookup) error {
	if key == "" {
		return invalid(op, field, "%s is required for a %s metric", field, d.Kind)
	}
	if key == d.Key {
		return invalid(op, field, "%s %q refers to the metric itself", field, key)
	}
	ref, ok := lookup(key)
	if !ok {
		return invalid(op, field, "%s %q is not a metric of this tenant", field, key)
	}
	if ref.Kind == KindConversion || ref.Kind == KindCumulative {
		return invalid(op, field, "%s %q is a %s metric and cannot be combined; use COUNT, UNIQUE_USERS, SUM, AVG, MIN, MAX, PERCENTILE, RATIO or FORMULA metrics",
			field, key, ref.Kind)
	}
	for _, dim := range d.Dimensions {
		if rd, ok := ref.dimension(dim.Path); !ok || dimensionType(rd) != dimensionType(dim) {
			return invalid(op, "dimensions", "dimension %q is not allowed by %s %q, so the metrics are incompatible; remove it or add it to %q",
				dim.Path, field, key, key)
		}
	}
	return nil
}

// checkCycle walks the references from d and fails on a path back to d.
func checkCycle(op string, d *Definition, lookup Lookup) error {
	get := func(key string) (*Definition, bool) {
		if key == d.Key {
			return d, true
		}
		return lookup(key)
	}
	var walk func(key string, path []string) error
	walk = func(key string, path []string) error {
		if slices.Contains(path, key) {
			return invalid(op, "expression", "metric %q would depend on itself: %s", d.Key, strings.Join(append(path, key), " → "))
		}
		m, ok := get(key)
		if !ok {
			return nil
		}
		for _, r := range m.References() {
			if err := walk(r, append(slices.Clone(path), key)); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(d.Key, nil)
}

// validateFilters checks metric-level filters.
func validateFilters(op string, d *Definition) error {
	if len(d.Filters) > maxFilters {
		return invalid(op, "filters", "filters has %d entries; at most %d are allowed", len(d.Filters), maxFilters)
	}
	_, err := bindMetricFilters(op, d)
	return err
}

// bindMetricFilters checks and types a metric's own filters. They may use
// event columns, the declared dimensions, the value path, and any other
// property path whose Filter.Type is given.
func bindMetricFilters(op string, d *Definition) ([]boundFilter, error) {
	dims := slices.Clone(d.Dimensions)
	for _, c := range []string{"type", "user_id", "session_id"} {
		if _, ok := d.dimension(c); !ok {
			dims = append(dims, Dimension{Path: c, Type: TypeString})
		}
	}
	if d.Value != nil && d.Value.Path != "" {
		if _, ok := d.dimension(d.Value.Path); !ok {
			dims = append(dims, Dimension{Path: d.Value.Path, Type: d.Value.Type})
		}
	}
	names := make([]string, len(dims))
	for i, x := range dims {
		names[i] = x.Path
	}
	names = append(names, "a property path with its type")
	var out []boundFilter
	for i, f := range d.Filters {
		allowed := func(p string) (Dimension, bool) {
			if j := slices.IndexFunc(dims, func(x Dimension) bool { return x.Path == p }); j >= 0 {
				return dims[j], true
			}
			if strings.HasPrefix(p, propertiesPrefix) && checkPath(op, "", p, f.Type) == nil {
				return Dimension{Path: p, Type: f.Type}, true
			}
			return Dimension{}, false
		}
		bf, err := bindFilter(op, fmt.Sprintf("filters[%d]", i), f, allowed, names)
		if err != nil {
			return nil, err
		}
		out = append(out, bf)
	}
	return out, nil
}
