package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/auth"
	"github.com/learnhub/analytics-service/platform/config"
)

// runToken prints a token signed with the HS256 secret the server in the
// same data dir (or with the same ANALYTICS_JWT_SECRET) accepts.
func runToken(args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	tenant := fs.String("tenant", "", "tenant id (required)")
	role := fs.String("role", "viewer", "viewer, analyst, admin or ingest")
	subject := fs.String("subject", "", "subject; default cli-<role>")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime, e.g. 1h or 720h")
	dataDir := fs.String("data-dir", "", "data directory (default ANALYTICS_DATA_DIR or ./data)")
	create := fs.Bool("create-secret", false, "create the dev secret in the data directory when it has none")
	if err := fs.Parse(args); err != nil {
		return &config.Error{Setting: "token flags", Msg: err.Error() + "; use --tenant T --role viewer|analyst|admin|ingest [--subject S] [--ttl 24h] [--data-dir D] [--create-secret]"}
	}
	r, ok := auth.ParseRole(strings.ToLower(*role))
	if !ok {
		return &config.Error{Setting: "--role", Msg: fmt.Sprintf("%q: use viewer, analyst, admin or ingest", *role)}
	}
	if *tenant == "" {
		return &config.Error{Setting: "--tenant", Msg: "required: the tenant the token is for"}
	}
	if *ttl <= 0 {
		return &config.Error{Setting: "--ttl", Msg: "must be positive, e.g. 24h"}
	}
	var cargs []string
	if *dataDir != "" {
		cargs = []string{"--data-dir", *dataDir}
	}
	cfg, err := config.Load(cargs, getenv)
	if err != nil {
		return err
	}
	secret, err := tokenSecret(cfg, *create)
	if err != nil {
		return err
	}
	signer, err := newSigner(cfg, secret)
	if err != nil {
		return err
	}
	if *subject == "" {
		*subject = "cli-" + string(r)
	}
	tok, err := signer.Sign(auth.Principal{Subject: *subject, Tenant: *tenant, Roles: []auth.Role{r}}, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// tokenSecret is the secret the server with the same configuration verifies
// with. Without ANALYTICS_JWT_SECRET that is the data dir's dev secret, which
// must already exist: a token signed with a fresh secret (say, from another
// working directory) would be refused by the running server, so the command
// creates one only when asked to.
func tokenSecret(cfg config.Config, create bool) ([]byte, error) {
	if cfg.JWTSecret != "" || cfg.JWKSURL != "" || create {
		secret, err := hmacSecret(cfg)
		if err == nil && secret == nil {
			err = &config.Error{Setting: "ANALYTICS_JWT_SECRET", Msg: "HS256 is off (only ANALYTICS_JWKS_URL is set): get tokens from your identity provider"}
		}
		return secret, err
	}
	secret, err := auth.LoadSecret(cfg.DataDir)
	if errors.Is(err, fs.ErrNotExist) {
		where := auth.SecretPath(cfg.DataDir)
		if abs, aerr := filepath.Abs(where); aerr == nil {
			where = abs
		}
		return nil, &config.Error{Setting: "ANALYTICS_DATA_DIR / --data-dir", Msg: fmt.Sprintf(
			"no dev secret at %s: point --data-dir (or ANALYTICS_DATA_DIR) at the running server's data directory, "+
				"set ANALYTICS_JWT_SECRET to the server's secret, or pass --create-secret to start a new one", where)}
	}
	return secret, err
}
