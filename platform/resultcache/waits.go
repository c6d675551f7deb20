package resultcache

import (
	"context"
	"sync"
)

// Waits is told, by Do and by Go and Wait, when work of one caller starts
// on a new goroutine, when one of its goroutines blocks on work another
// goroutine does, and when it resumes or ends. A caller that gathers
// requests from many goroutines and answers them together (a dashboard
// render's metric batch) counts with it the goroutines still able to add
// a request, and flushes exactly when none is: a computation shared with
// another caller, or run by another goroutine, is never mistaken for
// work still to come, so no batch waits on another caller's batch.
type Waits interface {
	// Started is called before work starts on a new goroutine.
	Started()
	// Ended is called when that goroutine's work returned.
	Ended()
	// Blocked is called before a goroutine waits for work of others.
	Blocked()
	// Resumed is called when it is done waiting.
	Resumed()
}

// waitsKey carries a Waits in a context.
type waitsKey struct{}

// WithWaits returns ctx carrying w; Do, Go and Wait tell it what they do.
// A computation Do starts keeps the first caller's values, so the Waits
// of the caller that started it.
func WithWaits(ctx context.Context, w Waits) context.Context {
	return context.WithValue(ctx, waitsKey{}, w)
}

// waitsFrom is ctx's Waits, or one that ignores everything.
func waitsFrom(ctx context.Context) Waits {
	if w, ok := ctx.Value(waitsKey{}).(Waits); ok {
		return w
	}
	return noWaits{}
}

type noWaits struct{}

func (noWaits) Started() {}
func (noWaits) Ended()   {}
func (noWaits) Blocked() {}
func (noWaits) Resumed() {}

// Group runs goroutines of one caller's work and waits for them, told to
// the caller's Waits: the last goroutine to end resumes the waiting
// parent before it ends itself, so the count of busy goroutines never
// drops to zero in between. The zero value is not usable; call NewGroup.
type Group struct {
	w       Waits
	mu      sync.Mutex
	n       int
	waiting bool
	wg      sync.WaitGroup
}

// NewGroup returns a Group told to ctx's Waits.
func NewGroup(ctx context.Context) *Group { return &Group{w: waitsFrom(ctx)} }

// Go runs fn on a new goroutine of the group.
func (g *Group) Go(fn func()) {
	g.mu.Lock()
	g.n++
	g.mu.Unlock()
	g.w.Started()
	g.wg.Go(func() {
		defer g.w.Ended()
		defer func() {
			g.mu.Lock()
			if g.n--; g.n == 0 && g.waiting {
				g.waiting = false
				g.w.Resumed()
			}
			g.mu.Unlock()
		}()
		fn()
	})
}

// Wait waits for every goroutine of the group.
func (g *Group) Wait() {
	g.mu.Lock()
	if g.n > 0 {
		g.waiting = true
		g.w.Blocked()
	}
	g.mu.Unlock()
	g.wg.Wait()
}
