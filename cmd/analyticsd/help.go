package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// commandHelp is `analyticsd COMMAND --help`: what one command does and the
// flags it takes. Settings common to the server roles are in the README's
// configuration table (every one is an environment variable, a line of the
// --config file, or a KEY_FILE holding the value).
var commandHelp = map[string]string{
	"all": `usage: analyticsd [all] [--http-addr ADDR] [--data-dir DIR] [--config FILE]

Runs serve + work + ingest in one process. On the embedded default (no
ANALYTICS_CLICKHOUSE_URL) it seeds the demo data on first start and prints
where to go.
`,
	"serve": `usage: analyticsd serve [--http-addr ADDR] [--data-dir DIR] [--config FILE]

The GraphQL API over HTTP (/graphql) and WebSocket (graphql-transport-ws),
POST /v1/events, the web console at /, /metrics, /healthz and /readyz.
`,
	"work": `usage: analyticsd work [--data-dir DIR] [--config FILE]

The Asynq workers (exports, reports, cohorts, retention, rollups, …) and the
job scheduler. Several replicas share Redis; each scheduled slot runs once.
`,
	"ingest": `usage: analyticsd ingest [--data-dir DIR] [--config FILE]

The firehose: NATS JetStream → (Kafka when ANALYTICS_KAFKA_BROKERS is set) →
ClickHouse, with dead letters for malformed events.
`,
	"migrate": `usage: analyticsd migrate [--data-dir DIR] [--config FILE]

Applies the ClickHouse schema migrations (ON CLUSTER when
ANALYTICS_CLICKHOUSE_CLUSTER is set) and exits.
`,
	"seed": `usage: analyticsd seed [--seed N] [--learners N] [--days N] [--config FILE]

Publishes the demo events on the firehose (three tenants; tenant demo has the
planted completion drop).
`,
	"token": `usage: analyticsd token --tenant T --role viewer|analyst|admin|ingest [--subject S] [--ttl 24h] [--data-dir D] [--create-secret]

Prints an HS256 token the server with the same secret accepts (the dev secret
in the data dir, or ANALYTICS_JWT_SECRET).
`,
	"detect": `usage: analyticsd detect [--detector NAME] [--out DIR] FILE.csv…

Scores timestamp,value CSV files (NAB format) with a streaming detector and
writes timestamp,value,anomaly_score for every row.
`,
	"forecast": `usage: analyticsd forecast --horizon H [--season S] [--model NAME] [--level 80,95] FILE.csv

Forecasts every series of a unique_id,ds,y CSV; writes
unique_id,step,forecast,lo80,hi80,lo95,hi95.
`,
	"version": `usage: analyticsd version

Prints the version, the commit it was built from and the Go version.
`,
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "-help" }

// isVersion reports whether arg asks for the version.
func isVersion(arg string) bool { return arg == "--version" || arg == "-version" || arg == "-v" }

// buildVersion is the version line: the release, the commit (from the Go
// build's VCS stamp; "unknown" when built without it) and the toolchain.
func buildVersion() (release, commit, goVersion string) {
	commit = "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			commit = rev
			if modified == "true" {
				commit += "-dirty"
			}
		}
	}
	return version, commit, runtime.Version()
}

func printVersion(w io.Writer) {
	release, commit, gov := buildVersion()
	fmt.Fprintf(w, "analyticsd %s (commit %s, %s, %s/%s)\n", release, commit, gov, runtime.GOOS, runtime.GOARCH)
}
