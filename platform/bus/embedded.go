package bus

import (
	"os"
	"path/filepath"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/learnhub/analytics-service/platform/errs"
)

// embeddedServerName names the in-process server (it appears in JetStream
// metadata and must be stable across restarts on the same DataDir).
const embeddedServerName = "analyticsd-embedded"

// startEmbedded runs a NATS server in-process with JetStream on a file store
// that syncs every write (SyncAlways): an acknowledged publish survives a
// crash, which is what the outgoing-events and ingest guarantees rest on.
func (b *Bus) startEmbedded(cfg Config) error {
	const op = "bus.startEmbedded"
	dir := cfg.DataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "analytics-nats-")
		if err != nil {
			return errs.Wrap(op, errs.KindInternal, err, "cannot create a temporary NATS store")
		}
		b.tmpDir, dir = tmp, tmp
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		b.stopEmbedded()
		return errs.Wrap(op, errs.KindInternal, err, "")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		b.stopEmbedded()
		return errs.Wrap(op, errs.KindInternal, err, "cannot create the NATS data directory")
	}
	port := cfg.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: embeddedServerName,
		Host:       cfg.Host,
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		SyncAlways: true,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		b.stopEmbedded()
		return errs.Wrap(op, errs.KindInternal, err, "invalid embedded NATS options")
	}
	srv.Start()
	b.srv = srv
	if !srv.ReadyForConnections(cfg.StartTimeout) {
		b.stopEmbedded()
		return errs.E(op, errs.KindUnavailable, "the embedded NATS server did not become ready (is the port taken?)")
	}
	b.url = srv.ClientURL()
	return nil
}
