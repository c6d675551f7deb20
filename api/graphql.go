// Package api is the HTTP surface of analyticsd: GraphQL over POST, GET and
// WebSocket (graphql-transport-ws), the playground, health, readiness and
// Prometheus metrics, with request ids, authentication and panic recovery
// around every request.
package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/learnhub/analytics-service/graph"
	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/kv"
	"github.com/learnhub/analytics-service/platform/reqid"
	"github.com/learnhub/analytics-service/platform/resultcache"
	"github.com/learnhub/analytics-service/platform/telemetry"
)

// WebSocket protocol constants.
const (
	wsKeepAlive      = 15 * time.Second // how often the server pings clients
	wsCloseForbidden = 4403             // graphql-transport-ws: connection_init refused
	wsMaxCloseReason = 123              // bytes a close frame's reason may hold
)

// GraphQLConfig configures the GraphQL handler.
type GraphQLConfig struct {
	Schema   graph.Config
	Verifier auth.Verifier         // verifies WebSocket connection_init tokens
	Redis    redis.UniversalClient // APQ cache shared by replicas; nil disables APQ
	Log      *slog.Logger
	// MaxComplexity, MaxDepth and MaxTokens bound each operation; zero means
	// DefaultMaxComplexity, DefaultMaxDepth and DefaultMaxTokens.
	MaxComplexity int
	MaxDepth      int
	MaxTokens     int
	// MaxBodyBytes bounds a /graphql request body (413 beyond); zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxListLength and MaxStringBytes bound every list and string argument
	// (BAD_USER_INPUT beyond); zero means DefaultMaxListLength and
	// DefaultMaxStringBytes.
	MaxListLength  int
	MaxStringBytes int
	// Limits bound each tenant's operations per replica.
	Limits TenantLimits
	// Subscriptions bound live subscriptions per connection and per tenant.
	Subscriptions SubscriptionLimits
	// WSInitTimeout is how long a WebSocket may wait before connection_init
	// (closed with 4408 after); zero means DefaultWSInitTimeout.
	WSInitTimeout time.Duration
	// PerOperation, when set, decorates each operation's context (per-request
	// dataloaders live there).
	PerOperation func(context.Context) context.Context
	// Tracing gives each operation a span (nil: none).
	Tracing *telemetry.Tracing
	// Metrics counts operations by name and outcome and open subscriptions
	// (nil: none).
	Metrics *telemetry.Metrics
	// ResponseCache, when set, keeps whole responses of the reads
	// dashboards poll (see respcache.go); Definitions is the shared store
	// their dependencies are checked in, and Now the clock of their
	// windows (nil: time.Now). Nil disables it.
	ResponseCache *resultcache.Cache
	Definitions   kv.Cache
	Now           func() time.Time
}

// NewGraphQLHandler builds the gqlgen server with explicit transports and
// extensions (never the deprecated default server).
func NewGraphQLHandler(cfg GraphQLConfig) *handler.Server {
	if cfg.MaxComplexity <= 0 {
		cfg.MaxComplexity = DefaultMaxComplexity
	}
	if cfg.MaxDepth <= 0 {
		cfg.MaxDepth = DefaultMaxDepth
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxListLength <= 0 {
		cfg.MaxListLength = DefaultMaxListLength
	}
	if cfg.MaxStringBytes <= 0 {
		cfg.MaxStringBytes = DefaultMaxStringBytes
	}
	if cfg.WSInitTimeout <= 0 {
		cfg.WSInitTimeout = DefaultWSInitTimeout
	}
	srv := handler.New(graph.NewExecutableSchema(cfg.Schema))
	// gqlgen asks each transport in turn whether it takes a request: POST
	// JSON, nearly every request, is first; WebSocket upgrades, OPTIONS and
	// HEAD, which httpTransport declines, fall through to the others.
	srv.AddTransport(httpTransport{maxBody: cfg.MaxBodyBytes, log: cfg.Log})
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: wsKeepAlive,
		// Bearer tokens, not cookies, authenticate: a cross-origin page cannot
		// ride on a user's session, so any origin may connect.
		Implementation: wsProtocol{
			impl:        transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{OriginPatterns: []string{"*"}}},
			initTimeout: cfg.WSInitTimeout,
		},
		InitFunc: wsInit(cfg.Verifier),
	})
	srv.AddTransport(transport.Options{})

	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(cfg.MaxTokens)
	srv.SetDisableSuggestion(true)
	srv.SetErrorPresenter(presentError(cfg.Log))
	srv.SetRecoverFunc(recoverPanic(cfg.Log))

	if cfg.PerOperation != nil {
		srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			return next(cfg.PerOperation(ctx))
		})
	}
	if cfg.Metrics != nil {
		srv.Use(newOperationMetrics(cfg.Metrics))
	}
	if cfg.Tracing != nil {
		srv.Use(operationTracer{tr: cfg.Tracing.Tracer("analytics/graphql")})
	}
	srv.Use(adminIntrospection{})
	srv.Use(newTenantLimiter(cfg.Limits))
	srv.Use(newSubscriptionLimiter(cfg.Subscriptions))
	srv.Use(&limits{maxComplexity: cfg.MaxComplexity, maxDepth: cfg.MaxDepth, costs: lru.New[opCost](costCacheSize), traced: cfg.Tracing != nil})
	srv.Use(inputLimits{maxList: cfg.MaxListLength, maxString: cfg.MaxStringBytes})
	if cfg.Redis != nil {
		srv.Use(extension.AutomaticPersistedQuery{Cache: newAPQCache(cfg.Redis)})
	}
	if cfg.ResponseCache != nil && cfg.Definitions != nil {
		if cfg.Now == nil {
			cfg.Now = time.Now
		}
		srv.Use(responseCache{cache: cfg.ResponseCache, defs: cfg.Definitions, now: cfg.Now})
		srv.AroundFields(guardResolvers)
	}
	return srv
}

// wsInit authenticates a WebSocket connection from its connection_init
// payload ({"Authorization": "Bearer …"}); a missing or invalid token closes
// the connection with 4403 (graphql-transport-ws "Forbidden") and the reason.
func wsInit(v auth.Verifier) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		ctx = reqid.With(ctx, reqid.New())
		raw, ok := auth.BearerFromHeader(payload.Authorization())
		var err error
		if !ok {
			err = errs.E("api.wsInit", errs.KindUnauthenticated,
				`authentication required: send {"Authorization": "Bearer <token>"} in connection_init`)
		} else {
			var p auth.Principal
			if p, err = v.Verify(ctx, raw); err == nil {
				return withConnSubscriptions(auth.WithPrincipal(ctx, p)), nil, nil
			}
		}
		reason := truncateReason(errs.PublicMessage(err))
		ctx = transport.WithWebsocketCloseCode(ctx, wsCloseForbidden)
		ctx = transport.AppendCloseReason(ctx, reason)
		return ctx, nil, errs.Wrap("api.wsInit", errs.KindUnauthenticated, err, reason)
	}
}
