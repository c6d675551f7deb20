package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Defaults for the zero values of ConsumerConfig.
const (
	DefaultDurable    = "privacy-erasure"
	DefaultAckWait    = 2 * time.Minute
	DefaultFetchWait  = 2 * time.Second
	DefaultRetryDelay = 30 * time.Second
)

// ConsumerConfig tunes a Consumer.
type ConsumerConfig struct {
	// Durable names the JetStream durable consumer; empty means
	// DefaultDurable. Replicas sharing it split the requests.
	Durable string
	// AckWait is how long a request may go without a progress signal before
	// JetStream redelivers it; zero means DefaultAckWait. A request in work
	// signals progress every AckWait/3.
	AckWait time.Duration
	// FetchWait bounds one pull; zero means DefaultFetchWait.
	FetchWait time.Duration
	// RetryDelay is how long a failed request waits before redelivery;
	// zero means DefaultRetryDelay.
	RetryDelay time.Duration
	// Logger receives failures; nil means slog.Default().
	Logger *slog.Logger
}

// Consumer feeds erasure requests from the PRIVACY stream to
// Service.Process: acked after success, redelivered after RetryDelay on
// failure, terminated when the message is not a valid request.
type Consumer struct {
	svc *Service
	cfg ConsumerConfig
}

// NewConsumer returns the consumer of svc's requests.
func NewConsumer(svc *Service, cfg ConsumerConfig) *Consumer {
	if cfg.Durable == "" {
		cfg.Durable = DefaultDurable
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.FetchWait == 0 {
		cfg.FetchWait = DefaultFetchWait
	}
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = DefaultRetryDelay
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Consumer{svc: svc, cfg: cfg}
}

// Run ensures the stream and the durable consumer, then processes requests
// one at a time until ctx is done; it returns nil on cancellation.
func (c *Consumer) Run(ctx context.Context) error {
	const op = "privacy.Consumer"
	if err := c.svc.ensureStream(ctx); err != nil {
		return err
	}
	cons, err := c.svc.bus.JetStream().CreateOrUpdateConsumer(ctx, c.svc.cfg.Stream, jetstream.ConsumerConfig{
		Durable:       c.cfg.Durable,
		FilterSubject: SubjectErasureRequested,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.cfg.AckWait,
		MaxDeliver:    -1,
	})
	if err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "cannot create the privacy consumer")
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(c.cfg.FetchWait))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			c.cfg.Logger.Warn("privacy: fetch failed; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(c.cfg.FetchWait):
			}
			continue
		}
		for msg := range batch.Messages() {
			c.handle(ctx, msg)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
			c.cfg.Logger.Warn("privacy: fetch ended with an error", "err", err)
		}
	}
	return nil
}

// handle processes one message and settles it.
func (c *Consumer) handle(ctx context.Context, msg jetstream.Msg) {
	var req Request
	if err := json.Unmarshal(msg.Data(), &req); err != nil {
		c.cfg.Logger.Error("privacy: an erasure request is not JSON; terminated", "err", err)
		_ = msg.Term()
		return
	}
	stop := c.keepAlive(msg)
	_, _, err := c.svc.Process(ctx, req)
	stop()
	switch {
	case err == nil:
		_ = msg.DoubleAck(ctx)
	case errs.Is(err, errs.KindInvalid):
		c.cfg.Logger.Error("privacy: invalid erasure request; terminated", "request_id", req.RequestID, "err", err)
		_ = msg.Term()
	default:
		c.cfg.Logger.Warn("privacy: erasure failed; will retry", "request_id", req.RequestID, "err", err)
		_ = msg.NakWithDelay(c.cfg.RetryDelay)
	}
}

// keepAlive tells JetStream the message is in progress every AckWait/3
// until the returned stop is called.
func (c *Consumer) keepAlive(msg jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(c.cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	return func() { close(done) }
}
