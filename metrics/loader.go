package metrics

import (
	"context"
	"time"

	"github.com/graph-gophers/dataloader/v7"
)

// Defaults of LoaderConfig.
const (
	DefaultLoaderWait     = 2 * time.Millisecond
	DefaultLoaderMaxBatch = 100
)

// LoaderConfig configures a Loader.
type LoaderConfig struct {
	// Wait is how long the first request waits for others to batch with;
	// zero means DefaultLoaderWait.
	Wait time.Duration
	// MaxBatch caps the requests in one batch; zero means DefaultLoaderMaxBatch.
	MaxBatch int
}

// Loader batches the metric requests of one GraphQL request: every
// request that arrives within Wait goes to Querier.QueryBatch together,
// so N widgets over the same range become one SELECT. Build one per
// request (it does not cache and holds no tenant itself: the batch runs
// with the first caller's context).
type Loader struct {
	dl *dataloader.Loader[*Request, *Result]
	q  *Querier
}

// NewLoader returns a Loader over q.
func NewLoader(q *Querier, cfg LoaderConfig) *Loader {
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultLoaderWait
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultLoaderMaxBatch
	}
	batch := func(ctx context.Context, keys []*Request) []*dataloader.Result[*Result] {
		reqs := make([]Request, len(keys))
		for i, k := range keys {
			reqs[i] = *k
		}
		res, errs := q.QueryBatch(ctx, reqs)
		out := make([]*dataloader.Result[*Result], len(keys))
		for i := range keys {
			out[i] = &dataloader.Result[*Result]{Data: res[i], Error: errs[i]}
		}
		return out
	}
	return &Loader{q: q, dl: dataloader.NewBatchedLoader(batch,
		dataloader.WithWait[*Request, *Result](cfg.Wait),
		dataloader.WithBatchCapacity[*Request, *Result](cfg.MaxBatch),
		dataloader.WithCache[*Request, *Result](&dataloader.NoCache[*Request, *Result]{}))}
}

// Load answers req, batched with the other requests made within the wait.
func (l *Loader) Load(ctx context.Context, req Request) (*Result, error) {
	return l.dl.Load(ctx, &req)()
}

// LoadAll answers reqs as one batch now, without waiting for others: for
// a caller that gathered its requests itself (a dashboard render).
func (l *Loader) LoadAll(ctx context.Context, reqs []Request) ([]*Result, []error) {
	return l.q.QueryBatch(ctx, reqs)
}
