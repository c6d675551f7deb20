package rediskv

import (
	"net/url"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/learnhub/analytics-service/platform/errs"
)

// expectedURL is the form a bad ANALYTICS_REDIS_URL is told to follow.
const expectedURL = "expected redis://[user:password@]host:port[/db], rediss://… for TLS, or unix:///path/to/redis.sock"

// parseURL reads ANALYTICS_REDIS_URL. redis://, rediss:// (TLS) and unix:// are
// supported; Sentinel and Cluster are not yet.
//
// TODO(rediskv): Sentinel (redis-sentinel://, via redis.ParseFailoverURL and
// asynq.RedisFailoverClientOpt) and Cluster (via redis.ParseClusterURL and
// asynq.RedisClusterClientOpt) need a scheme of their own and a
// UniversalClient of the matching kind.
func parseURL(raw string) (*redis.Options, error) {
	const op = "rediskv.parseURL"
	u, err := url.Parse(raw)
	if err != nil {
		// The raw value may hold a password: never echo it.
		return nil, errs.Invalid(op, "ANALYTICS_REDIS_URL", "ANALYTICS_REDIS_URL is not a URL; "+expectedURL)
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
	case "redis-sentinel", "redis+sentinel", "sentinel", "redis-cluster", "redis+cluster":
		return nil, errs.Invalid(op, "ANALYTICS_REDIS_URL",
			"ANALYTICS_REDIS_URL scheme "+u.Scheme+":// is not supported yet (Sentinel and Cluster are planned); "+expectedURL)
	default:
		return nil, errs.Invalid(op, "ANALYTICS_REDIS_URL",
			"ANALYTICS_REDIS_URL has scheme "+quoteScheme(u.Scheme)+"; "+expectedURL)
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		// go-redis messages name the part that is wrong (db, port, option)
		// without the password.
		return nil, errs.Invalid(op, "ANALYTICS_REDIS_URL",
			"ANALYTICS_REDIS_URL is malformed ("+err.Error()+"); "+expectedURL)
	}
	return opts, nil
}

// asynqOpt gives Asynq the same server, credentials, database and TLS
// settings as the go-redis client.
func asynqOpt(o *redis.Options) asynq.RedisClientOpt {
	return asynq.RedisClientOpt{
		Network:      o.Network,
		Addr:         o.Addr,
		Username:     o.Username,
		Password:     o.Password,
		DB:           o.DB,
		DialTimeout:  o.DialTimeout,
		ReadTimeout:  o.ReadTimeout,
		WriteTimeout: o.WriteTimeout,
		PoolSize:     o.PoolSize,
		TLSConfig:    o.TLSConfig,
	}
}

func quoteScheme(s string) string {
	if s == "" {
		return "none (write the scheme, e.g. redis://localhost:6379)"
	}
	return `"` + s + `"`
}
