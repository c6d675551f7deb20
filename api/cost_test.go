package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/api"
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/platform/auth"
)

// fanOut is `query { ...F0 }` with `fragment Fi on Query { ...Fi+1 ...Fi+1 }`
// levels deep: under 1 KB of text that expands to 2^levels fields.
func fanOut(levels int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { viewer { tenant } }\n", levels)
	return b.String()
}

// TestFragmentFanOutIsRefusedInTimeOfItsSize: the complexity check counts
// each fragment once, so a document whose expansion is astronomically large
// is refused at once, with the true (saturated) complexity.
func TestFragmentFanOutIsRefusedInTimeOfItsSize(t *testing.T) {
	e := newEdge(t, edgeOpts{})
	tok := e.token("demo", auth.RoleViewer)
	for _, levels := range []int{24, 40, 62, 200} {
		t.Run(fmt.Sprint(levels), func(t *testing.T) {
			body, err := json.Marshal(map[string]any{"query": fanOut(levels)})
			require.NoError(t, err)
			start := time.Now()
			res, err := e.do("POST", "/graphql", string(body), map[string]string{
				"Content-Type": "application/json", "Authorization": "Bearer " + tok}, 10*time.Second)
			require.NoError(t, err, "no answer: the check walks the expanded tree")
			took := time.Since(start)
			var gr gqlResponse
			require.NoError(t, json.Unmarshal([]byte(res.body), &gr), res.body)
			require.Equal(t, "BAD_USER_INPUT", gr.code(), res.body)
			assert.Contains(t, gr.Errors[0].Message, "complexity")
			want := float64(2) // viewer + tenant per leaf
			for range levels {
				want *= 2
			}
			assert.Equal(t, min(want, float64(maxInt64)), gr.Errors[0].Extensions["complexity"])
			assert.Less(t, took, 2*time.Second)
		})
	}
}

const maxInt64 = 1<<63 - 1

// TestOperationStopsWhenClientLeaves: an operation's context is cancelled
// as soon as its client disconnects, so no work outlives the request.
func TestOperationStopsWhenClientLeaves(t *testing.T) {
	cancelled := make(chan time.Duration, 1)
	e := newEdge(t, edgeOpts{graphql: func(c *api.GraphQLConfig) {
		c.Schema.Directives.HasRole = func(ctx context.Context, _ any, _ graphql.Resolver, _ model.Role) (any, error) {
			start := time.Now()
			select {
			case <-ctx.Done():
				cancelled <- time.Since(start)
			case <-time.After(20 * time.Second):
			}
			return nil, ctx.Err()
		}
	}})
	body, _ := json.Marshal(map[string]any{"query": `{ serverInfo { version } }`})
	_, err := e.do("POST", "/graphql", string(body), map[string]string{"Content-Type": "application/json",
		"Authorization": "Bearer " + e.token("demo", auth.RoleAdmin)}, 300*time.Millisecond)
	require.Error(t, err, "the client gives up first")
	select {
	case d := <-cancelled:
		assert.Less(t, d, 5*time.Second)
	case <-time.After(15 * time.Second):
		t.Fatal("the operation kept running after its client left")
	}
}
