package chserver

import (
	"context"
	"errors"
	"math"
	"math/big"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
)

type enumName string

func TestNative(t *testing.T) {
	i32 := int32(-3)
	var nilStr *string
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"string", "x", "x"},
		{"int8", int8(-8), int64(-8)},
		{"int32 pointer", &i32, int64(-3)},
		{"nil pointer", nilStr, nil},
		{"uint16", uint16(9), uint64(9)},
		{"float32 shortest", float32(0.1), 0.1},
		{"float32 nan", float32(math.NaN()), math.NaN()},
		{"bool", true, true},
		{"time to UTC", time.Date(2024, 1, 1, 1, 0, 0, 0, cet), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"duration", 26*time.Hour + 3*time.Minute + 4*time.Second + 500*time.Millisecond, "26:03:04.5"},
		{"negative duration", -time.Second, "-00:00:01"},
		{"decimal", decimal.RequireFromString("12.340"), "12.34"},
		{"uuid", uuid.MustParse("61f0c404-5cb3-11e7-907b-a6006ad3dba0"), "61f0c404-5cb3-11e7-907b-a6006ad3dba0"},
		{"ipv4 in 16 bytes", net.ParseIP("10.0.0.1"), "10.0.0.1"},
		{"ipv6", net.ParseIP("::1"), "::1"},
		{"big int", big.NewInt(-170141183), "-170141183"},
		{"named string (enum)", enumName("a"), "a"},
		{"array of uint8 is numbers", []uint8{1, 2}, []any{uint64(1), uint64(2)}},
		{"array of nullable", []*int32{&i32, nil}, []any{int64(-3), nil}},
		{"nested array", [][]string{{"a"}, {}}, []any{[]any{"a"}, []any{}}},
		{"nil slice", []string(nil), []any{}},
		{"fixed array (point)", [2]float64{1, 2}, []any{1.0, 2.0}},
		{"tuple", []any{uint8(1), "x"}, []any{uint64(1), "x"}},
		{"map", map[string]uint32{"a": 1}, map[string]any{"a": uint64(1)}},
		{"map with int keys", map[int16]string{-1: "x"}, map[string]any{"-1": "x"}},
		{"named tuple", map[string]any{"a": int8(1), "b": []float32{0.5}}, map[string]any{"a": int64(1), "b": []any{0.5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := native(tt.in)
			require.NoError(t, err)
			if f, ok := tt.want.(float64); ok && math.IsNaN(f) {
				g, isFloat := got.(float64)
				require.True(t, isFloat)
				assert.True(t, math.IsNaN(g))
				return
			}
			assert.Equal(t, tt.want, got)
			if tm, ok := got.(time.Time); ok {
				assert.Equal(t, time.UTC, tm.Location())
			}
		})
	}

	t.Run("unsupported", func(t *testing.T) {
		_, err := native(struct{ A chan int }{})
		require.Error(t, err)
	})
}

func TestCoerce(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	typ := func(v any) reflect.Type { return reflect.TypeOf(v) }
	tests := []struct {
		name    string
		in      any
		to      reflect.Type
		want    any
		wantErr bool
	}{
		{"same type", uint64(1), typ(uint64(0)), uint64(1), false},
		{"int to uint64", 7, typ(uint64(0)), uint64(7), false},
		{"negative to uint", -1, typ(uint64(0)), nil, true},
		{"int64 to int32", int64(5), typ(int32(0)), int32(5), false},
		{"int64 overflows int32", int64(1) << 40, typ(int32(0)), nil, true},
		{"uint64 overflows int64", uint64(math.MaxUint64), typ(int64(0)), nil, true},
		{"uint8 overflow", 256, typ(uint8(0)), nil, true},
		{"int to float", 3, typ(float64(0)), 3.0, false},
		{"float to int", 3.0, typ(int64(0)), int64(3), false},
		{"fraction to int", 3.5, typ(int64(0)), nil, true},
		{"float64 to float32", 0.5, typ(float32(0)), float32(0.5), false},
		{"bool to uint8", true, typ(uint8(0)), uint8(1), false},
		{"text to int", "-12", typ(int16(0)), int16(-12), false},
		{"bad text to int", "x", typ(int16(0)), nil, true},
		{"int to string", 42, typ(""), "42", false},
		{"float to string", 0.25, typ(""), "0.25", false},
		{"bytes to string stay bytes", []byte("b"), typ(""), []byte("b"), false},
		{"int to bool", 1, typ(true), true, false},
		{"text to time", "2024-05-06 07:08:09", typ(time.Time{}), at, false},
		{"bad text to time", "soon", typ(time.Time{}), nil, true},
		{"nil to nullable", nil, typ((*string)(nil)), nil, false},
		{"value to nullable", 5, typ((*int32)(nil)), int32(5), false},
		{"nil pointer to nullable", (*int)(nil), typ((*int32)(nil)), nil, false},
		{"[]any to []string", []any{"a", 1}, typ([]string{}), []string{"a", "1"}, false},
		{"[]int to []uint16", []int{1, 2}, typ([]uint16{}), []uint16{1, 2}, false},
		{"[]int overflow", []int{1, -2}, typ([]uint16{}), nil, true},
		{"array to nullable elements", []any{1, nil}, typ([]*int64{}), []*int64{ptr(int64(1)), nil}, false},
		{"map values", map[string]any{"a": 1}, typ(map[string]uint64{}), map[string]uint64{"a": 1}, false},
		{"unknown passes", struct{}{}, typ(uint64(0)), struct{}{}, false},
		{"no type passes", 1, nil, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := coerce(tt.in, tt.to)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestDriverSettings(t *testing.T) {
	got := driverSettings(store.Settings{
		"a": int64(5), "b": uint64(7), "c": uint64(math.MaxUint64), "d": true, "e": "break",
		"f": 1.5, "g": 90 * time.Second, "h": nil, "i": uint8(2), "j": 3,
	})
	assert.Equal(t, clickhouse.Settings{
		"a": 5, "b": 7, "c": uint64(math.MaxUint64), "d": true, "e": "break",
		"f": 1.5, "g": 90, "i": 2, "j": 3,
	}, got)
}

func TestBindArgs(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	whole := time.Date(2024, 1, 1, 1, 0, 0, 0, cet)
	milli := time.Date(2024, 1, 1, 1, 0, 0, 250_000_000, cet)

	t.Run("no times pass unchanged", func(t *testing.T) {
		in := []any{1, "a"}
		sql, out := bindArgs("SELECT ?, ?", in)
		assert.Equal(t, "SELECT ?, ?", sql)
		assert.Equal(t, in, out)
	})
	t.Run("whole-second times move to UTC, positional", func(t *testing.T) {
		in := []any{"x", whole}
		sql, out := bindArgs("SELECT ?, ?", in)
		assert.Equal(t, "SELECT ?, ?", sql)
		assert.Equal(t, time.UTC, out[1].(time.Time).Location())
		assert.True(t, whole.Equal(out[1].(time.Time)))
		assert.Equal(t, cet, in[1].(time.Time).Location(), "the caller's slice is not modified")
	})
	t.Run("sub-second times switch to named millisecond binding", func(t *testing.T) {
		sql, out := bindArgs("SELECT ?, '?', ? -- ?\n", []any{"x", milli})
		assert.Equal(t, "SELECT @p0, '?', @p1 -- ?\n", sql)
		assert.Equal(t, []any{
			clickhouse.Named("p0", "x"),
			clickhouse.DateNamed("p1", milli.UTC(), clickhouse.MilliSeconds),
		}, out)
	})
	t.Run("placeholder mismatch is left to the driver", func(t *testing.T) {
		sql, out := bindArgs("SELECT ?", []any{milli, 2})
		assert.Equal(t, "SELECT ?", sql)
		assert.Len(t, out, 2)
	})
}

func TestNamePlaceholders(t *testing.T) {
	tests := []struct {
		in, want string
		n        int
	}{
		{"SELECT ?", "SELECT @p0", 1},
		{"SELECT ?, ?", "SELECT @p0, @p1", 2},
		{"SELECT '?', \"?\", `?`, ?", "SELECT '?', \"?\", `?`, @p0", 1},
		{`SELECT 'it\'s ?', ?`, `SELECT 'it\'s ?', @p0`, 1},
		{"SELECT 'a''?', ?", "SELECT 'a''?', @p0", 1},
		{"SELECT ? -- why?\n, ?", "SELECT @p0 -- why?\n, @p1", 2},
		{"SELECT ? # why?", "SELECT @p0 # why?", 1},
		{"SELECT /* a /* ? */ ? */ ?", "SELECT /* a /* ? */ ? */ @p0", 1},
		{`SELECT \?, ?`, "SELECT ?, @p0", 1},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, n := namePlaceholders(tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.n, n)
		})
	}
}

func TestInsertSQL(t *testing.T) {
	assert.Equal(t, "INSERT INTO `ev\\`il` (`a`, `b c`)", insertSQL("ev`il", []string{"a", "b c"}))
}

func TestDriverOptionsDefaults(t *testing.T) {
	tests := []struct {
		name             string
		o                Options
		open, idle       int
		lifetime         time.Duration
		tlsSet           bool
		wantAddr         []string
		wantUser, wantDB string
	}{
		{"defaults", Options{URL: "clickhouse://u:p@h:9000/db"}, DefaultMaxOpenConns, DefaultMaxIdleConns, DefaultConnMaxLifetime, false, []string{"h:9000"}, "u", "db"},
		{"url wins over defaults", Options{URL: "clickhouse://h:9000/db?max_open_conns=3&max_idle_conns=2&conn_max_lifetime=1m&secure=true"}, 3, 2, time.Minute, true, []string{"h:9000"}, "default", "db"},
		{"options win over url", Options{URL: "clickhouse://h:9000?max_open_conns=3", MaxOpenConns: 30, MaxIdleConns: 40, ConnMaxLifetime: time.Second}, 30, 30, time.Second, false, []string{"h:9000"}, "default", ""},
		{"several hosts", Options{URL: "clickhouse://a:9000,b:9000/db"}, DefaultMaxOpenConns, DefaultMaxIdleConns, DefaultConnMaxLifetime, false, []string{"a:9000", "b:9000"}, "default", "db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := driverOptions(tt.o)
			require.NoError(t, err)
			assert.Equal(t, tt.open, got.MaxOpenConns)
			assert.Equal(t, tt.idle, got.MaxIdleConns, "never more idle than open")
			assert.Equal(t, tt.lifetime, got.ConnMaxLifetime)
			assert.Equal(t, tt.tlsSet, got.TLS != nil)
			assert.Equal(t, tt.wantAddr, got.Addr)
			if tt.wantUser != "default" {
				assert.Equal(t, tt.wantUser, got.Auth.Username)
			}
			assert.Equal(t, tt.wantDB, got.Auth.Database)
		})
	}
}

func TestDSNPassword(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"clickhouse://u:pw@h:9000/db", "pw"},
		{"clickhouse://u:p@w@h:9000/db", "p@w"},
		{"clickhouse://u@h:9000/db", ""},
		{"clickhouse://h:9000/db", ""},
		{"u:pw@h", "pw"},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			assert.Equal(t, tt.want, dsnPassword(tt.dsn))
		})
	}
}

func TestClassify(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		err      error
		kind     errs.Kind
		is       error
		wantCode int
		wantName string
	}{
		{"modern exception", context.Background(),
			&clickhouse.Exception{Code: 62, Name: "DB::Exception", Message: "Syntax error: failed at position 1. (SYNTAX_ERROR) (version 25.3.2.39 (official build))"},
			errs.KindInternal, nil, 62, "SYNTAX_ERROR"},
		{"old exception", context.Background(),
			&clickhouse.Exception{Code: 396, Name: "DB::Exception", Message: "Limit for result exceeded"},
			errs.KindInvalid, nil, 396, ""},
		{"readonly", context.Background(), &clickhouse.Exception{Code: 164, Message: "readonly"}, errs.KindForbidden, nil, 164, ""},
		{"cancelled ctx", context.Background(), context.Canceled, errs.KindUnavailable, context.Canceled, 0, ""},
		{"socket timeout at deadline", expired, &net.OpError{Op: "read", Err: errors.New("i/o timeout")}, errs.KindUnavailable, context.DeadlineExceeded, 0, ""},
		{"connection refused", context.Background(), &net.OpError{Op: "dial", Err: errors.New("connection refused")}, errs.KindUnavailable, nil, 0, ""},
		{"pool exhausted", context.Background(), clickhouse.ErrAcquireConnTimeout, errs.KindUnavailable, nil, 0, ""},
		{"bug", context.Background(), errors.New("converting int to UInt64 is unsupported"), errs.KindInternal, nil, 0, ""},
		{"already classified", context.Background(), errs.E("x", errs.KindNotFound, "gone"), errs.KindNotFound, nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify(tt.ctx, "op", tt.err)
			require.Error(t, err)
			assert.Equal(t, tt.kind, errs.KindOf(err))
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			var ex *store.Exception
			if tt.wantCode == 0 {
				assert.False(t, errors.As(err, &ex))
				return
			}
			require.ErrorAs(t, err, &ex)
			assert.Equal(t, tt.wantCode, ex.Code)
			assert.Equal(t, tt.wantName, ex.Name)
			assert.NotContains(t, ex.Message, "version")
		})
	}
	assert.NoError(t, classify(context.Background(), "op", nil))
}
