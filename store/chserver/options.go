package chserver

import (
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/learnhub/analytics-service/platform/errs"
)

// redacted hides a DSN's password in an error that may quote the DSN (URL
// parse errors do), so it can be logged as a cause.
type redacted struct {
	err error
	dsn string
}

// Error implements error.
func (r redacted) Error() string {
	msg := r.err.Error()
	if pw := dsnPassword(r.dsn); pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return msg
}

// Unwrap exposes the cause.
func (r redacted) Unwrap() error { return r.err }

// driverOptions turns Options into the driver's, applying the defaults.
// Options' non-zero fields win over the URL's parameters.
func driverOptions(o Options) (*clickhouse.Options, error) {
	const op = "chserver.Open"
	if strings.TrimSpace(o.URL) == "" {
		return nil, errs.E(op, errs.KindInvalid, "no ClickHouse URL: want clickhouse://user:password@host:9000/database")
	}
	copt, err := clickhouse.ParseDSN(o.URL)
	if err != nil {
		return nil, errs.Wrap(op, errs.KindInvalid, redacted{err, o.URL},
			"the ClickHouse URL is not valid: want clickhouse://user:password@host:9000/database[?secure=true&dial_timeout=5s]")
	}
	if copt.Protocol != clickhouse.Native {
		return nil, errs.E(op, errs.KindInvalid,
			"the ClickHouse URL must use the native protocol (clickhouse://host:9000 or 9440 with secure=true), not HTTP")
	}
	if len(copt.Addr) == 0 {
		return nil, errs.E(op, errs.KindInvalid, "the ClickHouse URL names no host: want clickhouse://user:password@host:9000/database")
	}
	copt.MaxOpenConns = firstPositive(o.MaxOpenConns, copt.MaxOpenConns, DefaultMaxOpenConns)
	copt.MaxIdleConns = min(firstPositive(o.MaxIdleConns, copt.MaxIdleConns, DefaultMaxIdleConns), copt.MaxOpenConns)
	copt.ConnMaxLifetime = firstPositive(o.ConnMaxLifetime, copt.ConnMaxLifetime, DefaultConnMaxLifetime)
	if o.TLS != nil {
		copt.TLS = o.TLS
	}
	copt.ClientInfo.Products = append(copt.ClientInfo.Products, struct{ Name, Version string }{"learnhub-analytics", "1"})
	return copt, nil
}

// firstPositive returns the first value above zero.
func firstPositive[T ~int | ~int64](vs ...T) T {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

// dsnPassword extracts the password part of user:password@ in a DSN
// without parsing it as a URL (the DSN may be the malformed input).
func dsnPassword(dsn string) string {
	rest := dsn
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	userinfo := rest[:at]
	if i := strings.IndexByte(userinfo, ':'); i >= 0 {
		return userinfo[i+1:]
	}
	return ""
}
