package metrics

import (
	"context"
	"fmt"
	"slices"
)

// CohortRef is one cohort a request names, with the input field that
// named it (for errors such as widgets[2].cohorts[0].id).
type CohortRef struct {
	ID    string
	Field string
}

// CohortChecker checks, for the caller's tenant, that every referenced
// cohort exists: an unknown or another tenant's id is KindNotFound naming
// its field. It returns a notice for each cohort that has no successful
// evaluation yet (it has no members). cohorts.Service implements it; the
// metric compiler cannot, since membership is bound, not looked up.
type CohortChecker interface {
	CheckCohorts(ctx context.Context, op string, refs []CohortRef) (notices []string, err error)
}

// CheckRequestCohorts is the one check of a request's cohorts shared by
// metricQuery, dashboard widgets and metric exports: their form
// (CheckCohortFilters) and, through c, that each is the caller tenant's.
// listField and breakdownField name the inputs in errors (e.g.
// widgets[2].cohorts and widgets[2].cohortBreakdown). It returns c's
// notices; a nil c refuses a request that names cohorts.
func CheckRequestCohorts(ctx context.Context, c CohortChecker, op string, req Request, listField, breakdownField string) ([]string, error) {
	if err := req.CheckCohortFilters(op, listField); err != nil {
		return nil, err
	}
	refs := req.cohortRefs(listField, breakdownField)
	switch {
	case len(refs) == 0:
		return nil, nil
	case c == nil:
		return nil, invalid(op, refs[0].Field, "%s: cohorts are not available here on this server", refs[0].Field)
	}
	return c.CheckCohorts(ctx, op, refs)
}

// cohortRefs lists the cohorts r names: each filter as listField[i].id,
// then the breakdown as breakdownField. Empty ids are left out
// (CheckCohortFilters names them).
func (r Request) cohortRefs(listField, breakdownField string) []CohortRef {
	var out []CohortRef
	for i, c := range r.Cohorts {
		if c.CohortID != "" {
			out = append(out, CohortRef{ID: c.CohortID, Field: fmt.Sprintf("%s[%d].id", listField, i)})
		}
	}
	if r.CohortBreakdown != "" {
		out = append(out, CohortRef{ID: r.CohortBreakdown, Field: breakdownField})
	}
	return out
}

// CheckCohortFilters checks the form of r.Cohorts (not whether the
// cohorts exist): at most MaxRequestCohorts, no empty or repeated id.
// listField names the list in errors, e.g. widgets[2].cohorts.
func (r Request) CheckCohortFilters(op, listField string) error {
	if len(r.Cohorts) > MaxRequestCohorts {
		return invalid(op, listField, "at most %d cohort filters are allowed, got %d", MaxRequestCohorts, len(r.Cohorts))
	}
	for i, c := range r.Cohorts {
		field := fmt.Sprintf("%s[%d].id", listField, i)
		switch {
		case c.CohortID == "":
			return invalid(op, field, "%s is empty; give a cohort id", field)
		case slices.ContainsFunc(r.Cohorts[:i], func(x CohortFilter) bool { return x.CohortID == c.CohortID }):
			return invalid(op, field, "cohort %q is filtered on twice", c.CohortID)
		}
	}
	return nil
}
