package chserver

import (
	"context"
	"math"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/learnhub/analytics-service/store"
)

// Query runs a statement and streams its rows. The statement's `?`
// placeholders are bound by the driver (see bindArgs); its settings travel
// with the query.
func (b *Backend) Query(ctx context.Context, st store.Statement) (store.Rows, error) {
	const op = "chserver.Query"
	// The rows own a cancellable ctx so Close can stop a query the caller
	// abandons instead of draining the rest of its result.
	qctx, cancel := context.WithCancel(withSettings(ctx, st.Settings))
	sql, args := bindArgs(st.SQL, st.Args)
	r, err := b.conn.Query(qctx, sql, args...)
	if err != nil {
		cancel()
		return nil, classify(ctx, op, err)
	}
	return newRows(ctx, cancel, r), nil
}

// Exec runs a statement whose result is not needed (DDL, mutations).
func (b *Backend) Exec(ctx context.Context, st store.Statement) error {
	sql, args := bindArgs(st.SQL, st.Args)
	return classify(ctx, "chserver.Exec", b.conn.Exec(withSettings(ctx, st.Settings), sql, args...))
}

// withSettings attaches the statement's settings to ctx the way the driver
// reads them.
func withSettings(ctx context.Context, s store.Settings) context.Context {
	if len(s) == 0 {
		return ctx
	}
	return clickhouse.Context(ctx, clickhouse.WithSettings(driverSettings(s)))
}

// driverSettings converts settings to the driver's form. Integers become
// int and booleans stay bool: servers before protocol revision 54429
// (ClickHouse < 20.x) take only those as numbers; newer servers receive
// every value as text.
func driverSettings(s store.Settings) clickhouse.Settings {
	out := make(clickhouse.Settings, len(s))
	for k, v := range s {
		switch x := v.(type) {
		case nil:
			continue
		case int8:
			out[k] = int(x)
		case int16:
			out[k] = int(x)
		case int32:
			out[k] = int(x)
		case int64:
			out[k] = int(x)
		case uint8:
			out[k] = int(x)
		case uint16:
			out[k] = int(x)
		case uint32:
			out[k] = int(x)
		case uint:
			out[k] = uintSetting(uint64(x))
		case uint64:
			out[k] = uintSetting(x)
		case time.Duration:
			out[k] = int(x / time.Second)
		default:
			out[k] = v
		}
	}
	return out
}

// uintSetting keeps an unsigned setting numeric when it fits an int.
func uintSetting(n uint64) any {
	if n <= math.MaxInt {
		return int(n)
	}
	return n
}
