// Package chserver is the production ClickHouse backend: a ClickHouse server
// or cluster reached over the native protocol (port 9000, 9440 with TLS)
// with github.com/ClickHouse/clickhouse-go/v2. It implements store.Backend
// with the same scanning semantics as the embedded engine (every value goes
// through store.Assign), so the rest of the service cannot tell them apart.
package chserver

import (
	"context"
	"crypto/tls"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

// Pool defaults, used when both Options and the URL leave a value unset.
const (
	// DefaultMaxOpenConns bounds concurrent connections when
	// Options.MaxOpenConns is zero and the URL has no max_open_conns.
	DefaultMaxOpenConns = 16
	// DefaultMaxIdleConns is the number of idle connections kept when
	// Options.MaxIdleConns is zero and the URL has no max_idle_conns.
	DefaultMaxIdleConns = 8
	// DefaultConnMaxLifetime recycles connections when
	// Options.ConnMaxLifetime is zero and the URL has no conn_max_lifetime.
	DefaultConnMaxLifetime = time.Hour
)

// Options configure a connection to a ClickHouse server.
type Options struct {
	// URL is the server's DSN, e.g.
	// clickhouse://user:pass@host:9000/analytics?secure=true&dial_timeout=5s
	// (see clickhouse.ParseDSN for every parameter). Required. Only the
	// native protocol is accepted.
	URL string
	// MaxOpenConns bounds concurrent connections; zero means the URL's
	// max_open_conns, else DefaultMaxOpenConns.
	MaxOpenConns int
	// MaxIdleConns is how many idle connections are kept; zero means the
	// URL's max_idle_conns, else DefaultMaxIdleConns. Never more than
	// MaxOpenConns.
	MaxIdleConns int
	// ConnMaxLifetime recycles older connections; zero means the URL's
	// conn_max_lifetime, else DefaultConnMaxLifetime.
	ConnMaxLifetime time.Duration
	// TLS, when set, replaces the TLS configuration the URL implies
	// (secure=true, skip_verify); nil keeps the URL's.
	TLS *tls.Config
	// Cluster names the ClickHouse cluster that DDL runs ON CLUSTER; empty
	// (the zero value) means a single server.
	Cluster string
	// DangerousSkipVersionCheck accepts servers older than
	// store.MinServerVersion. Only the transport tests set it, against
	// Debian's ClickHouse 18.16; the service's SQL needs a newer server.
	// False (the zero value) refuses old servers.
	DangerousSkipVersionCheck bool
}

// Backend is a pool of native-protocol connections to one ClickHouse server
// (or the servers of a cluster listed in the URL). It is safe for
// concurrent use.
type Backend struct {
	conn    driver.Conn
	addr    string // host:port list for messages; never holds credentials
	cluster string
}

var _ store.Backend = (*Backend)(nil)

// Open connects to the server named by o.URL, checks that it answers and
// that it is at least store.MinServerVersion (unless
// o.DangerousSkipVersionCheck). A server that cannot be reached is a
// KindUnavailable error naming its address.
func Open(ctx context.Context, o Options) (*Backend, error) {
	const op = "chserver.Open"
	copt, err := driverOptions(o)
	if err != nil {
		return nil, err
	}
	conn, err := clickhouse.Open(copt)
	if err != nil {
		// Open only validates options; the cause may quote them, so it
		// stays out of the message.
		return nil, errs.Wrap(op, errs.KindInvalid, redacted{err, o.URL}, "the ClickHouse URL's options are not valid")
	}
	b := &Backend{conn: conn, addr: strings.Join(copt.Addr, ","), cluster: o.Cluster}
	if err := b.conn.Ping(ctx); err != nil {
		_ = conn.Close()
		return nil, b.unreachable(ctx, op, err)
	}
	version, err := b.ServerVersion(ctx)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	if !o.DangerousSkipVersionCheck {
		if err := store.CheckServerVersion(version); err != nil {
			_ = conn.Close()
			return nil, err
		}
	}
	return b, nil
}

// Addr is the server address list the backend connects to (host:port,
// comma separated), for logs and serverInfo. It never holds credentials.
func (b *Backend) Addr() string { return b.addr }

// Cluster is the cluster name DDL runs ON CLUSTER; empty for one server.
func (b *Backend) Cluster() string { return b.cluster }

// Ping checks that the server answers.
func (b *Backend) Ping(ctx context.Context) error {
	if err := b.conn.Ping(ctx); err != nil {
		return b.unreachable(ctx, "chserver.Ping", err)
	}
	return nil
}

// ServerVersion is the server's version string as `SELECT version()`
// reports it, e.g. "25.3.2.39".
func (b *Backend) ServerVersion(ctx context.Context) (string, error) {
	const op = "chserver.ServerVersion"
	var v string
	if err := b.conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return "", classify(ctx, op, err)
	}
	return v, nil
}

// Close closes every connection in the pool.
func (b *Backend) Close() error {
	if err := b.conn.Close(); err != nil {
		return errs.Wrap("chserver.Close", errs.KindInternal, err, "")
	}
	return nil
}

// unreachable classifies a failed ping. Engine errors (e.g. wrong password)
// and a cancelled ctx keep their classification; transport failures name
// the address so an operator knows which server did not answer.
func (b *Backend) unreachable(ctx context.Context, op string, err error) error {
	if isException(err) || ctxErr(ctx) != nil {
		return classify(ctx, op, err)
	}
	return errs.Wrap(op, errs.KindUnavailable, err,
		"cannot reach ClickHouse at "+b.addr+"; check the server is running and the URL's host and port")
}
