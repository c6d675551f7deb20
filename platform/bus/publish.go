package bus

import (
	"context"
	"encoding/json"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Publish sends v as JSON to subject on JetStream and waits for the stream's
// acknowledgement. msgID becomes the Nats-Msg-Id header: a repeat with the
// same id within the stream's duplicate window is stored once, so a retried
// job may publish its event again safely. Derive msgID from the input (e.g.
// the export id and event version), never from the clock.
func (b *Bus) Publish(ctx context.Context, subject string, v any, msgID string) error {
	const op = "bus.Publish"
	if msgID == "" {
		return errs.E(op, errs.KindInternal, "an outgoing event needs a message id for dedup").With("subject", subject)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return errs.Wrap(op, errs.KindInternal, err, "")
	}
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	msg.Header.Set("Content-Type", "application/json")
	if _, err := b.js.PublishMsg(ctx, msg, jetstream.WithMsgID(msgID)); err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "cannot publish "+subject)
	}
	return nil
}

// EnsureStream creates the stream described by cfg, or updates it to cfg when
// it exists (so configuration changes apply on the next start). A zero
// cfg.Replicas means the bus's resolved count (Replicas).
func (b *Bus) EnsureStream(ctx context.Context, cfg jetstream.StreamConfig) error {
	if cfg.Replicas == 0 {
		cfg.Replicas = b.replicas
	}
	if _, err := b.js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return errs.Wrap("bus.EnsureStream", errs.KindUnavailable, err, "cannot create or update stream "+cfg.Name)
	}
	return nil
}

// streamConfig is the outgoing-events stream: file storage, limits
// retention, and a duplicate window for Nats-Msg-Id dedup.
func streamConfig(cfg Config, replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "outgoing analytics events (versioned subjects, JSON); see docs/events.md",
		Subjects:    []string{DefaultStreamSubjects},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      cfg.StreamMaxAge,
		Duplicates:  cfg.DuplicateWindow,
		Replicas:    replicas,
	}
}
