package rediskv

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/learnhub/analytics-service/platform/errs"
)

// expectedURL is the form a bad ANALYTICS_REDIS_URL is told to follow.
const expectedURL = "expected redis://[user:password@]host:port[/db], rediss://… for TLS, unix:///path/to/redis.sock, " +
	"or redis-sentinel://[user:password@]host:port[,host:port…]/master-name[/db] for Sentinel"

// target is a parsed ANALYTICS_REDIS_URL: one server or a Sentinel-watched
// master, with what both clients (go-redis and Asynq) need to reach it.
type target struct {
	// single is set for redis://, rediss:// and unix://.
	single *redis.Options
	// failover is set for redis-sentinel:// (and its aliases).
	failover *redis.FailoverOptions
}

// client opens the go-redis client of the target.
func (t target) client() redis.UniversalClient {
	if t.failover != nil {
		return redis.NewFailoverClient(t.failover)
	}
	return redis.NewClient(t.single)
}

// addr names the target for logs and health, never with the password.
func (t target) addr() string {
	if t.failover != nil {
		return "sentinel " + strings.Join(t.failover.SentinelAddrs, ",") + " master " + t.failover.MasterName
	}
	return t.single.Addr
}

// asynqOpt gives Asynq the same server (or Sentinel master), credentials,
// database and TLS settings as the go-redis client.
func (t target) asynqOpt() asynq.RedisConnOpt {
	if o := t.failover; o != nil {
		return asynq.RedisFailoverClientOpt{
			MasterName:       o.MasterName,
			SentinelAddrs:    o.SentinelAddrs,
			SentinelUsername: o.SentinelUsername,
			SentinelPassword: o.SentinelPassword,
			Username:         o.Username,
			Password:         o.Password,
			DB:               o.DB,
			DialTimeout:      o.DialTimeout,
			ReadTimeout:      o.ReadTimeout,
			WriteTimeout:     o.WriteTimeout,
			PoolSize:         o.PoolSize,
			TLSConfig:        o.TLSConfig,
		}
	}
	o := t.single
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

// parseURL reads ANALYTICS_REDIS_URL. redis://, rediss:// (TLS), unix:// and
// redis-sentinel:// (also written redis+sentinel:// or sentinel://) are
// supported; Redis Cluster is not.
func parseURL(raw string) (target, error) {
	const op = "rediskv.parseURL"
	u, err := url.Parse(raw)
	if err != nil {
		// The raw value may hold a password: never echo it.
		return target{}, errs.Invalid(op, "ANALYTICS_REDIS_URL", "ANALYTICS_REDIS_URL is not a URL; "+expectedURL)
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
	case "redis-sentinel", "redis+sentinel", "sentinel":
		return parseSentinel(op, u)
	case "redis-cluster", "redis+cluster":
		return target{}, errs.Invalid(op, "ANALYTICS_REDIS_URL",
			"ANALYTICS_REDIS_URL scheme "+u.Scheme+":// is not supported (Redis Cluster); use one server or Sentinel; "+expectedURL)
	default:
		return target{}, errs.Invalid(op, "ANALYTICS_REDIS_URL",
			"ANALYTICS_REDIS_URL has scheme "+quoteScheme(u.Scheme)+"; "+expectedURL)
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		// go-redis messages name the part that is wrong (db, port, option)
		// without the password.
		return target{}, errs.Invalid(op, "ANALYTICS_REDIS_URL",
			"ANALYTICS_REDIS_URL is malformed ("+err.Error()+"); "+expectedURL)
	}
	return target{single: opts}, nil
}

// parseSentinel reads redis-sentinel://[user:password@]host:port[,host:port…]/master-name[/db].
// The user and password are the data nodes' (the master's and replicas');
// a Sentinel that wants its own goes in ?sentinel_password= (and
// ?sentinel_username=). TLS through Sentinel is not offered (untested here).
func parseSentinel(op string, u *url.URL) (target, error) {
	bad := func(what string) (target, error) {
		return target{}, errs.Invalid(op, "ANALYTICS_REDIS_URL", "ANALYTICS_REDIS_URL: "+what+"; "+expectedURL)
	}
	o := &redis.FailoverOptions{}
	for _, hp := range strings.Split(u.Host, ",") {
		host, port, err := net.SplitHostPort(hp)
		if err != nil || host == "" || port == "" {
			return bad("Sentinel address " + strconv.Quote(hp) + " is not host:port")
		}
		o.SentinelAddrs = append(o.SentinelAddrs, net.JoinHostPort(host, port))
	}
	parts := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
	switch len(parts) {
	case 1, 2:
		o.MasterName = parts[0]
		if len(parts) == 2 {
			db, err := strconv.Atoi(parts[1])
			if err != nil || db < 0 {
				return bad("database " + strconv.Quote(parts[1]) + " is not a number")
			}
			o.DB = db
		}
	default:
		return bad("the path must be /master-name or /master-name/db")
	}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "sentinel_password", "sentinel_username":
		default:
			return bad("unknown option " + strconv.Quote(k) + " (known: sentinel_username, sentinel_password)")
		}
	}
	o.SentinelUsername, o.SentinelPassword = q.Get("sentinel_username"), q.Get("sentinel_password")
	return target{failover: o}, nil
}

func quoteScheme(s string) string {
	if s == "" {
		return "none (write the scheme, e.g. redis://localhost:6379)"
	}
	return `"` + s + `"`
}
