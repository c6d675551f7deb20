// Command analyticsd is the analytics-service binary: one process that can
// serve GraphQL, run the Asynq workers and scheduler, and consume the event
// firehose, on embedded engines by default or on production ones by
// configuration. It is the composition root: config → adapters → services →
// servers.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/learnhub/analytics-service/demo"
	"github.com/learnhub/analytics-service/platform/config"
)

// version is reported by serverInfo and the startup log.
const version = "0.1.0"

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2 // bad command line or configuration
)

const usage = `usage: analyticsd [command] [flags]

commands:
  all       serve + work + ingest (default); seeds demo data on first start when embedded
  serve     GraphQL API over HTTP and WebSocket, POST /v1/events
  work      Asynq workers and the job scheduler
  ingest    the firehose: NATS JetStream (→ Kafka) → ClickHouse
  seed      publish demo events on the firehose: seed [--seed N] [--learners N] [--days N]
  migrate   apply ClickHouse schema migrations and exit
  token     print a signed token: token --tenant T --role viewer|analyst|admin|ingest [--subject S] [--ttl 24h] [--data-dir D] [--create-secret]
  detect    score timestamp,value CSV files for anomalies: detect [--detector NAME] [--out DIR] FILE.csv…
  version   print the version and the commit it was built from (also --version)
  forecast  forecast every series of a unique_id,ds,y CSV: forecast --horizon H [--season S] [--model NAME] [--level 80,95] FILE.csv

flags (every flag also has an ANALYTICS_* environment variable; see README):
  --http-addr ADDR   HTTP listen address (default :8080)
  --data-dir DIR     data directory of the embedded engines (default ./data)
  --config FILE      KEY=VALUE file of ANALYTICS_* settings (also ANALYTICS_CONFIG_FILE);
                     the environment wins over it, and ANALYTICS_X_FILE=path reads X from a file

analyticsd COMMAND --help describes one command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "all"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch {
	case cmd == "version" || (cmd == "all" && len(args) > 0 && isVersion(args[0])):
		printVersion(stdout)
		return exitOK
	case cmd == "help" && len(args) > 0 && commandHelp[args[0]] != "":
		fmt.Fprint(stdout, commandHelp[args[0]])
		return exitOK
	case cmd == "help" || (cmd == "all" && len(args) > 0 && isHelp(args[0])):
		fmt.Fprint(stdout, usage)
		return exitOK
	case len(args) > 0 && isHelp(args[0]) && commandHelp[cmd] != "":
		fmt.Fprint(stdout, commandHelp[cmd])
		return exitOK
	}
	var err error
	switch cmd {
	case "token":
		err = runToken(args, getenv, stdout)
	case "forecast":
		err = runForecast(args, os.Stdin, stdout)
	case "detect":
		err = runDetect(args, stdout)
	case "all", "serve", "work", "ingest", "migrate", "seed":
		var (
			cfg  config.Config
			opts demo.Options
		)
		if cmd == "seed" {
			opts, args, err = seedFlags(args)
		}
		if err == nil {
			cfg, err = config.Load(args, getenv)
		}
		if err == nil && cmd == "ingest" {
			// The firehose role alone gets the collector setting measured
			// for it; `all` also runs exports, whose heap it would inflate.
			defer config.ApplyIngestGC(getenv)()
		}
		if err == nil {
			err = runRoles(ctx, cmd, cfg, opts, stdout, stderr)
		}
	default:
		fmt.Fprintf(stderr, "analyticsd: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "analyticsd %s: %v\n", cmd, describe(err))
	var ce *config.Error
	if errors.As(err, &ce) {
		return exitUsage
	}
	return exitFailed
}

// seedFlags takes the seed command's own flags off args.
func seedFlags(args []string) (demo.Options, []string, error) {
	var opts demo.Options
	var rest []string
	for i := 0; i < len(args); i++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		switch name {
		case "seed", "learners", "days":
		default:
			rest = append(rest, args[i])
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return opts, nil, &config.Error{Setting: "--" + name, Msg: "needs a number"}
			}
			i++
			val = args[i]
		}
		n, err := strconv.Atoi(val)
		if err != nil || n <= 0 {
			return opts, nil, &config.Error{Setting: "--" + name, Msg: fmt.Sprintf("%q is not a positive whole number", val)}
		}
		switch name {
		case "seed":
			opts.Seed = uint64(n)
		case "learners":
			opts.Learners = n
		case "days":
			opts.Days = n
		}
	}
	return opts, rest, nil
}
