package resolvers

import (
	"context"

	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/relay"
)

// conn is the part every Relay connection of the schema shares: the page's
// edges (cursor and node), the same nodes without cursors and its PageInfo.
// Each listing resolver builds it with connect and copies it into its
// generated XConnection type.
type conn[N, E any] struct {
	Edges    []E
	Nodes    []N
	PageInfo *model.PageInfo
}

// connect maps one page of a domain listing onto a connection: position is
// the domain's own position of an item (what its List takes as after),
// wrapped into an opaque cursor bound to the caller's tenant; node maps an
// item; edge pairs a cursor with a node. after is what the caller passed
// (the page has items before it when set).
func connect[T, N, E any](ctx context.Context, items []T, hasNext bool, after *string,
	position func(T) string, node func(T) (N, error), edge func(string, N) E) (conn[N, E], error) {
	tenant, _ := auth.TenantFrom(ctx)
	out := conn[N, E]{Edges: make([]E, 0, len(items)), Nodes: make([]N, 0, len(items)),
		PageInfo: &model.PageInfo{HasNextPage: hasNext, HasPreviousPage: deref(after) != ""}}
	for i, it := range items {
		n, err := node(it)
		if err != nil {
			return conn[N, E]{}, err
		}
		c := relay.Cursor(tenant, position(it))
		if i == 0 {
			out.PageInfo.StartCursor = &c
		}
		out.PageInfo.EndCursor = &c
		out.Edges = append(out.Edges, edge(c, n))
		out.Nodes = append(out.Nodes, n)
	}
	return out, nil
}

// openAfter unwraps the cursor a listing received as after into the
// domain's position; a cursor of another tenant is BAD_USER_INPUT.
func openAfter(ctx context.Context, op string, after *string) (string, error) {
	tenant, _ := auth.TenantFrom(ctx)
	return relay.Open(op, tenant, deref(after))
}

// Page sizes of the listings paged by windowed.
const (
	defaultWindow = 50
	maxWindow     = 200
)

// windowed is connect for a list the domain returns whole (cohorts, alert
// rules, monitors, API keys, dead letters): list reads it, and the page is
// first items (1 to maxWindow, 0 means defaultWindow) after the cursor
// after, with the list's length as the total count. key is an item's
// position (its id).
func windowed[T, N, E any](ctx context.Context, op string, list func(context.Context) ([]T, error), first *int, after *string,
	key func(T) string, node func(T) (N, error), edge func(string, N) E) (conn[N, E], int, error) {
	pos, err := openAfter(ctx, op, after)
	if err != nil {
		return conn[N, E]{}, 0, err
	}
	items, err := list(ctx)
	if err != nil {
		return conn[N, E]{}, 0, err
	}
	page, more, err := relay.Window(op, items, deref(first), defaultWindow, maxWindow, pos, key)
	if err != nil {
		return conn[N, E]{}, 0, err
	}
	c, err := connect(ctx, page, more, after, key, node, edge)
	return c, len(items), err
}

// infallible adapts a mapping that cannot fail to connect's node.
func infallible[T, N any](f func(T) N) func(T) (N, error) {
	return func(t T) (N, error) { return f(t), nil }
}
