package demo

import (
	"context"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/learnhub/analytics-service/ingest"
)

// publishChunk is how many events are published between progress calls.
const publishChunk = 5000

// Publish generates the events for opts and publishes them on the firehose,
// newest first, through js (each awaited, Nats-Msg-Id = tenant:event id), calling
// progress (may be nil) after each chunk with how many are stored out of
// the total. It returns the number published. The stream must exist
// (ingest.EnsureStream).
func Publish(ctx context.Context, js jetstream.JetStream, opts Options, progress func(done, total int)) (int, error) {
	events := Generate(opts)
	// Newest first: the first queries a person tries (the last 7 or 30
	// days) show data seconds after the start, while older months load.
	slices.Reverse(events)
	pub := ingest.NewPublisher(js)
	if progress != nil {
		progress(0, len(events))
	}
	for start := 0; start < len(events); start += publishChunk {
		end := min(start+publishChunk, len(events))
		results, err := pub.Publish(ctx, events[start:end])
		if err != nil {
			return start, err
		}
		for i, err := range results {
			if err != nil {
				return start + i, fmt.Errorf("demo: publishing event %s: %w", events[start+i].ID, err)
			}
		}
		if progress != nil {
			progress(end, len(events))
		}
	}
	return len(events), nil
}
