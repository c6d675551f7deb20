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
	"syscall"

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
  all       serve + work (default)
  serve     GraphQL API over HTTP and WebSocket
  work      Asynq workers and the job scheduler
  migrate   apply ClickHouse schema migrations and exit
  token     print a signed token: token --tenant T --role viewer|analyst|admin [--subject S] [--ttl 24h]

flags (every flag also has an ANALYTICS_* environment variable; see README):
  --http-addr ADDR   HTTP listen address (default :8080)
  --data-dir DIR     data directory of the embedded engines (default ./data)
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
	if cmd == "help" || (len(args) > 0 && (args[0] == "-h" || args[0] == "--help")) {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	var err error
	switch cmd {
	case "token":
		err = runToken(args, getenv, stdout)
	case "all", "serve", "work", "migrate":
		var cfg config.Config
		cfg, err = config.Load(args, getenv)
		if err == nil {
			err = runRoles(ctx, cmd, cfg, stdout, stderr)
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
