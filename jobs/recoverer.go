package jobs

import "context"

// Recoverer repairs work a previous worker left unfinished — e.g. exports
// re-enqueue jobs whose row still says RUNNING. Domain packages register one
// with Server.AddRecoverer; the Server runs each once, in registration order,
// when it starts and before it takes the first task. Recover must be
// idempotent: several workers may start at once, and each runs it.
type Recoverer interface {
	Recover(ctx context.Context) error
}

// RecovererFunc adapts a function to Recoverer.
type RecovererFunc func(ctx context.Context) error

// Recover calls f.
func (f RecovererFunc) Recover(ctx context.Context) error { return f(ctx) }
