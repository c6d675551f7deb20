package metrics

import (
	"time"
)

// ValueType is the type of a property value or dimension.
type ValueType string

// The value types a definition may declare for a property path.
const (
	TypeString  ValueType = "String"
	TypeInt64   ValueType = "Int64"
	TypeFloat64 ValueType = "Float64"
	TypeBool    ValueType = "Bool"
)

// valueTypes lists every type, for validation messages.
var valueTypes = []ValueType{TypeString, TypeInt64, TypeFloat64, TypeBool}

// Definition is one metric as the registry stores it: what the caller
// wrote (Input) and the fields the registry owns.
type Definition struct {
	ID string // assigned by the registry
	Input

	Status      Status     // ACTIVE unless deprecated
	Replacement string     // key of the metric to use instead, when deprecated
	Sunset      *time.Time // after this the metric no longer answers queries

	Version   uint64
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string
}

// ValueRef is a typed property path such as properties.score (Float64).
type ValueRef struct {
	Path string
	Type ValueType
	// Scale multiplies every value (1/60 turns seconds into minutes); zero means 1.
	Scale float64
}

// Conversion is a per-user funnel of two steps.
type Conversion struct {
	StartEvent string
	EndEvent   string
	// Window is how long after the start the end may happen, e.g. "7d"
	// (timerange.ParseLast syntax); empty means DefaultConversionWindow.
	Window string
}

// DefaultConversionWindow applies when Conversion.Window is empty.
const DefaultConversionWindow = "30d"

// Dimension is a column a metric may be sliced by: an event column
// (type, user_id, session_id) or a typed property path (properties.course_id).
type Dimension struct {
	Path string
	Type ValueType // String for event columns; required for property paths
}

// Filter restricts events: Dimension Op Values. Values are text and are
// parsed by the dimension's type.
type Filter struct {
	Dimension string
	Op        Op
	Values    []string
	// Type is the type of a property path that is not one of the metric's
	// dimensions (metric-level filters only); empty otherwise.
	Type ValueType `json:",omitempty"`
}

// Input is what a caller writes when creating or updating a metric.
// The zero values of optional fields are documented per field.
type Input struct {
	Key         string // tenant-unique, [a-z][a-z0-9_]{0,63}; used in formulas
	Name        string
	Description string
	Kind        Kind

	// EventTypes are the event types the metric reads; empty means any
	// event. Ignored by RATIO, FORMULA, CONVERSION and CUMULATIVE.
	EventTypes []string
	// FirstSeen makes a UNIQUE_USERS metric count each user only at their
	// first event ever (new users); false counts every active user.
	FirstSeen bool
	// Value is the numeric property SUM/AVG/MIN/MAX/PERCENTILE aggregate.
	Value *ValueRef
	// Percentile is the quantile of a PERCENTILE metric, in (0, 1).
	Percentile float64
	// Numerator and Denominator are metric keys of a RATIO.
	Numerator   string
	Denominator string
	// Expression is a FORMULA over metric keys, numbers, + - * / and parentheses.
	Expression string
	// Conversion describes a CONVERSION metric.
	Conversion *Conversion
	// Base is the metric key a CUMULATIVE metric accumulates.
	Base string

	// Filters restrict the events every query of this metric reads.
	Filters []Filter
	// Dimensions are the only dimensions a query may group or filter by.
	Dimensions []Dimension
	// DefaultGrain applies when a request gives no grain; empty means a total.
	DefaultGrain Grain
	Unit         string // e.g. "users", "minutes", "%"
	Format       string // display hint, e.g. "0.0%" or "#,##0"
	Owner        string
	Tags         []string
	KeyMetric    bool
}

// apply copies the input's fields onto d.
func (in Input) apply(d *Definition) { d.Input = in }

// References returns the metric keys d depends on (RATIO, FORMULA, CUMULATIVE).
func (d *Definition) References() []string {
	switch d.Kind {
	case KindRatio:
		return []string{d.Numerator, d.Denominator}
	case KindFormula:
		e, err := ParseExpression(d.Expression)
		if err != nil {
			return nil
		}
		return e.Idents()
	case KindCumulative:
		return []string{d.Base}
	}
	return nil
}

// dimension returns the allowed dimension with path p.
func (d *Definition) dimension(p string) (Dimension, bool) {
	for _, dim := range d.Dimensions {
		if dim.Path == p {
			return dim, true
		}
	}
	return Dimension{}, false
}
