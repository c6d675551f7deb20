package resolvers

import (
	"context"
	"strings"

	"github.com/learnhub/analytics-service/alerts"
	"github.com/learnhub/analytics-service/dashboards"
	"github.com/learnhub/analytics-service/exports"
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/monitors"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
)

// nodeGetter looks an id up in one domain through its tenant-scoped getter:
// found is false when the domain has no such id for the caller's tenant.
type nodeGetter func(ctx context.Context, id string) (n model.Node, found bool, err error)

// getNode adapts a domain getter and its model mapping to a nodeGetter.
// NOT_FOUND and BAD_USER_INPUT (an id of another shape) mean "not here".
func getNode[T any, N model.Node](get func(context.Context, string) (T, error), to func(T) (N, error)) nodeGetter {
	return func(ctx context.Context, id string) (model.Node, bool, error) {
		v, err := get(ctx, id)
		if errs.Is(err, errs.KindNotFound) || errs.Is(err, errs.KindInvalid) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		n, err := to(v)
		if err != nil {
			return nil, false, err
		}
		return n, true, nil
	}
}

// node resolves node(id): the Node types' ids are unique across types
// (UUIDs, and the key-metric defaults' "key:" and "default:" ids), so the
// first domain that knows the id in the caller's tenant answers. Types the
// caller's role cannot read are not tried; nobody knowing it is null.
func (r *Resolver) node(ctx context.Context, id string) (model.Node, error) {
	getters := r.nodeGetters(ctx, id)
	for _, get := range getters {
		if get == nil {
			continue
		}
		n, found, err := get(ctx, id)
		if err != nil {
			return nil, err
		}
		if found {
			return n, nil
		}
	}
	return nil, nil
}

// nodeGetters lists the getters worth trying for id (the defaults' ids
// name their type); a service this server does not run is not tried.
func (r *Resolver) nodeGetters(ctx context.Context, id string) []nodeGetter {
	var monitor, rule nodeGetter
	if r.MonitorService != nil {
		monitor = getNode(r.MonitorService.Get, infallible(toModelMonitor))
	}
	if r.AlertService != nil {
		rule = getNode(r.AlertService.Get, infallible(toModelAlertRule))
	}
	var out []nodeGetter
	switch {
	case strings.HasPrefix(id, monitors.DefaultIDPrefix):
		out = []nodeGetter{monitor}
	case strings.HasPrefix(id, alerts.DefaultRulePrefix):
		out = []nodeGetter{rule}
	default:
		out = []nodeGetter{monitor, rule}
		if r.MetricRegistry != nil {
			out = append(out, getNode(r.MetricRegistry.Get, infallible(toModelMetric)))
		}
		if r.DashboardService != nil {
			// dashboard(idOrSlug) also takes slugs; a node id is only the id.
			out = append(out, getNode(func(ctx context.Context, id string) (*dashboards.Dashboard, error) {
				d, err := r.DashboardService.Get(ctx, id)
				if err == nil && d.ID != id {
					return nil, errs.E("resolvers.node", errs.KindNotFound, "not a dashboard id")
				}
				return d, err
			}, infallible(toModelDashboard)))
		}
		if r.CohortService != nil {
			out = append(out, getNode(r.CohortService.Get, infallible(toModelCohort)))
		}
		if r.ReportService != nil {
			out = append(out, getNode(r.ReportService.Get, infallible(r.toModelReport)))
		}
		if r.InsightService != nil {
			out = append(out, getNode(r.InsightService.Get, infallible(toModelInsight)))
		}
		if _, err := auth.Require(ctx, auth.RoleAnalyst); err == nil && r.ExportService != nil {
			out = append(out, getNode(r.ExportService.Get, func(j *exports.Job) (*model.ExportJob, error) {
				return r.toModelExport(ctx, j)
			}))
		}
	}
	return out
}
