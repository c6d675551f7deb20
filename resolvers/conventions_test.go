package resolvers_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/learnhub/analytics-service/graph"
)

// resultLists are the Query fields that may return a plain list: computed
// answers bounded by their input (a time range, a horizon, bins), not
// collections of stored things a client pages through.
var resultLists = map[string]string{
	"eventTypeCounts":     "one row per event type in timeRange",
	"alertHistory":        "evaluations in timeRange, newest first, capped by first",
	"funnelTimeToConvert": "bins of a histogram",
	"funnelTrend":         "one point per period of the funnel's window",
	"metricAnomalies":     "one series per split of the metric",
	"metricForecast":      "one series per split of the metric",
}

// connectionTypes are the paged types whose name does not end in Connection.
var connectionTypes = map[string]bool{"CohortMembers": true}

// TestSchemaFollowsTheGraphQLConventions checks README "GraphQL conventions"
// on the schema the server serves: every collection a client pages through
// is a Relay connection (edges with cursors, nodes, a complete PageInfo,
// first/after), plain lists of stored things are deprecated in favour of
// one, and the entity types implement Node.
func TestSchemaFollowsTheGraphQLConventions(t *testing.T) {
	s := graph.NewExecutableSchema(graph.Config{}).Schema()

	pageInfo := s.Types["PageInfo"]
	for _, f := range []string{"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"} {
		assert.NotNil(t, pageInfo.Fields.ForName(f), "PageInfo.%s", f)
	}

	for _, f := range s.Query.Fields {
		if strings.HasPrefix(f.Name, "__") || f.Type.Elem == nil || f.Directives.ForName("deprecated") != nil {
			continue
		}
		if _, ok := resultLists[f.Name]; !ok {
			t.Errorf("Query.%s returns a plain list %s: make it a connection (or deprecate it for one)", f.Name, f.Type)
		}
	}

	var connections []string
	for name, def := range s.Types {
		if def.Kind != ast.Object || !(strings.HasSuffix(name, "Connection") || connectionTypes[name]) {
			continue
		}
		connections = append(connections, name)
		edges, nodes, info := def.Fields.ForName("edges"), def.Fields.ForName("nodes"), def.Fields.ForName("pageInfo")
		if !assert.NotNil(t, edges, "%s.edges", name) || !assert.NotNil(t, nodes, "%s.nodes", name) || !assert.NotNil(t, info, "%s.pageInfo", name) {
			continue
		}
		assert.Equal(t, "PageInfo!", info.Type.String(), "%s.pageInfo", name)
		edge := s.Types[edges.Type.Elem.Name()]
		if assert.NotNil(t, edge, "%s.edges", name) {
			assert.Equal(t, "String!", edge.Fields.ForName("cursor").Type.String(), "%s.cursor", edge.Name)
			assert.Equal(t, nodes.Type.Elem.String(), edge.Fields.ForName("node").Type.String(), "%s.node is what %s.nodes lists", edge.Name, name)
		}
	}
	sort.Strings(connections)
	assert.Equal(t, []string{"AlertRuleConnection", "ApiKeyConnection", "CohortConnection", "CohortMembers", "DashboardConnection",
		"DeadLetterConnection", "ErasureRequestConnection", "ExportJobConnection", "InsightConnection", "MetricConnection",
		"MonitorConnection", "ReportConnection", "ReportRunConnection"}, connections)

	for name, def := range s.Types {
		for _, f := range def.Fields {
			typ := s.Types[f.Type.Name()]
			if typ == nil || !(strings.HasSuffix(typ.Name, "Connection") || connectionTypes[typ.Name]) || strings.HasPrefix(name, "__") {
				continue
			}
			first, after := f.Arguments.ForName("first"), f.Arguments.ForName("after")
			if assert.NotNil(t, first, "%s.%s takes first", name, f.Name) && assert.NotNil(t, after, "%s.%s takes after", name, f.Name) {
				assert.Equal(t, "Int", first.Type.String(), "%s.%s(first)", name, f.Name)
				assert.Equal(t, "String", after.Type.String(), "%s.%s(after)", name, f.Name)
			}
		}
	}

	var nodes []string
	for _, def := range s.PossibleTypes["Node"] {
		nodes = append(nodes, def.Name)
		assert.Equal(t, "ID!", def.Fields.ForName("id").Type.String(), def.Name)
	}
	sort.Strings(nodes)
	assert.Equal(t, []string{"AlertRule", "Cohort", "Dashboard", "ExportJob", "Insight", "Metric", "Monitor", "Report"}, nodes)
}
