// Package jobstest holds test helpers for packages that enqueue jobs.
package jobstest

import (
	"context"
	"sync"

	"github.com/learnhub/analytics-service/jobs"
)

// Recorder is an enqueuer (the interface domain packages take in place of
// *queue.Client) that keeps every task instead of running it, so a test can
// run them through the handler itself. Each Enqueue reports the task's real
// deterministic id and never a duplicate. Safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	tasks []jobs.Task
}

// Enqueue records t.
func (r *Recorder) Enqueue(_ context.Context, t jobs.Task) (jobs.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tasks = append(r.tasks, t)
	id, _, err := jobs.TaskID(t)
	return jobs.Receipt{ID: id}, err
}

// Tasks returns the recorded tasks, oldest first.
func (r *Recorder) Tasks() []jobs.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]jobs.Task(nil), r.tasks...)
}

// Last returns the most recent task; it panics when there is none.
func (r *Recorder) Last() jobs.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tasks[len(r.tasks)-1]
}

// Take removes and returns the recorded tasks of kind, oldest first.
func (r *Recorder) Take(kind string) []jobs.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out, rest []jobs.Task
	for _, t := range r.tasks {
		if t.Kind == kind {
			out = append(out, t)
		} else {
			rest = append(rest, t)
		}
	}
	r.tasks = rest
	return out
}
