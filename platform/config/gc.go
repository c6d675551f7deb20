package config

import (
	"runtime/debug"
)

// IngestGCPercent is the garbage collector's target heap growth of the
// ingest role when the GOGC environment variable is unset. The firehose
// allocates short-lived objects per event (JetStream messages, decoded
// envelopes, Kafka records); at Go's default of 100 the collector took about
// a tenth of the pipeline's CPU, and 400 measured 8–12% more events/s in
// `make bench`. Other roles keep Go's default: an XLSX export's heap grows
// with the workbook, and at 400 a 1 M-row export held 190 MB of Go heap
// instead of 80 MB. GOGC (and GOMEMLIMIT, which caps the heap whatever the
// percent) override it.
const IngestGCPercent = 400

// ApplyIngestGC sets IngestGCPercent unless getenv("GOGC") is set, and
// returns a function restoring the previous setting.
func ApplyIngestGC(getenv func(string) string) (restore func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(IngestGCPercent)
	return func() { debug.SetGCPercent(prev) }
}
