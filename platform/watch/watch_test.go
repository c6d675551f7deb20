package watch_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/learnhub/analytics-service/platform/watch"
)

type rec struct {
	v    uint64
	done bool
}

func (r rec) StoredVersion() uint64 { return r.v }
func (r rec) Final() bool           { return r.done }

// store is a record that changes under the watcher.
type store struct {
	mu  sync.Mutex
	cur rec
	err error
}

func (s *store) get(context.Context) (rec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur, s.err
}

func (s *store) set(r rec) {
	s.mu.Lock()
	s.cur = r
	s.mu.Unlock()
}

func collect(ch <-chan rec, n int) []rec {
	var got []rec
	for r := range ch {
		got = append(got, r)
		if len(got) == n {
			break
		}
	}
	return got
}

func TestFollowSendsEachVersionOnceAndStopsWhenFinal(t *testing.T) {
	s := &store{cur: rec{v: 1}}
	ch := watch.Follow(t.Context(), time.Millisecond, s.cur, s.get)
	assert.Equal(t, []rec{{v: 1}}, collect(ch, 1))
	time.Sleep(10 * time.Millisecond) // polls that see no change send nothing
	s.set(rec{v: 2})
	assert.Equal(t, []rec{{v: 2}}, collect(ch, 1))
	s.set(rec{v: 3, done: true})
	assert.Equal(t, []rec{{v: 3, done: true}}, collect(ch, 1))
	_, open := <-ch
	assert.False(t, open, "closed after the final record")
}

func TestFollowStopsWhenTheRecordIsGoneOrTheSubscriberLeaves(t *testing.T) {
	s := &store{cur: rec{v: 1}}
	ch := watch.Follow(t.Context(), time.Millisecond, s.cur, s.get)
	<-ch
	s.mu.Lock()
	s.err = errors.New("gone")
	s.mu.Unlock()
	_, open := <-ch
	assert.False(t, open)

	ctx, cancel := context.WithCancel(t.Context())
	s2 := &store{cur: rec{v: 1}}
	ch = watch.Follow(ctx, time.Millisecond, s2.cur, s2.get)
	<-ch
	cancel()
	_, open = <-ch
	assert.False(t, open)
}
