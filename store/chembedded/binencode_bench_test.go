package chembedded

import (
	"fmt"
	"testing"
	"time"

	"github.com/learnhub/analytics-service/store"
)

// eventRows are rows as the ingest sink builds them.
func eventRows(n int) [][]any {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{"acme", fmt.Sprintf("ev-%d", i), "lesson.completed", fmt.Sprintf("user-%d", i%5000), "s-1",
			at.Add(time.Duration(i) * time.Millisecond), at,
			store.ValidJSON(fmt.Sprintf(`{"course_id":"c-%d","lesson_id":"l-%d","score":%d,"seconds":%d}`, i%40, i%400, i%101, i%3600))}
	}
	return rows
}

// BenchmarkEncodeEventRows is the Go side of an insert of event rows in
// each format (the check pass included for RowBinary).
func BenchmarkEncodeEventRows(b *testing.B) {
	rows := eventRows(10_000)
	types := make([]*binType, 0, 8)
	for _, s := range []string{"LowCardinality(String)", "String", "LowCardinality(String)", "String", "String",
		"DateTime64(3, 'UTC')", "DateTime64(3, 'UTC')", "JSON"} {
		t, _ := parseBinType(s)
		types = append(types, t)
	}
	buf := make([]byte, 0, 4<<20)
	b.Run("RowBinary", func(b *testing.B) {
		for b.Loop() {
			if !binFits(types, rows) {
				b.Fatal("rows do not fit")
			}
			buf = buf[:0]
			for _, r := range rows {
				buf, _, _ = binEncodeRow(buf, types, r, nil)
			}
		}
		b.ReportMetric(float64(len(buf))/float64(len(rows)), "bytes/row")
	})
	b.Run("RowBinary, binary JSON", func(b *testing.B) {
		var w jsonWalker
		for b.Loop() {
			buf = buf[:0]
			for _, r := range rows {
				buf, _, _ = binEncodeRow(buf, types, r, &w)
			}
		}
		b.ReportMetric(float64(len(buf))/float64(len(rows)), "bytes/row")
	})
	b.Run("JSONCompactEachRow", func(b *testing.B) {
		dates := make([]bool, 8)
		for b.Loop() {
			buf = buf[:0]
			for _, r := range rows {
				buf, _, _ = appendRow(buf, r, dates)
			}
		}
		b.ReportMetric(float64(len(buf))/float64(len(rows)), "bytes/row")
	})
}
