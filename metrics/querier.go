package metrics

import (
	"context"
	"time"

	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

// QuerierConfig configures a Querier.
type QuerierConfig struct {
	// Now is the clock relative ranges resolve against; nil means time.Now.
	Now func() time.Time
	// DisableRollups makes every query read the events table; false (the
	// default) uses the daily rollup whenever it answers exactly.
	DisableRollups bool
	// CheckRange refuses a resolved range (and a comparison range) the
	// engine cannot answer: the composition root passes the privacy hot
	// horizon check, so a range in the cold tier fails instead of reading
	// as empty. nil means every range is answered.
	CheckRange func(timerange.Range) error
	// Cluster names the ClickHouse cluster the tables were migrated on
	// ("" on one node). On a cluster a rollup key has a row on every shard
	// holding some of its users, so no statement may read a rollup row as
	// the whole of its group.
	Cluster string
}

// Querier answers metric requests for the caller's tenant.
type Querier struct {
	db  *store.DB
	reg *Registry
	cfg QuerierConfig
}

// NewQuerier returns a Querier reading definitions from reg and data from db.
func NewQuerier(db *store.DB, reg *Registry, cfg QuerierConfig) *Querier {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Querier{db: db, reg: reg, cfg: cfg}
}

// Query answers one request with its own statements.
func (q *Querier) Query(ctx context.Context, req Request) (*Result, error) {
	res, errs := q.QueryBatch(ctx, []Request{req})
	return res[0], errs[0]
}

// QueryBatch answers several requests of the caller's tenant, sharing one
// SELECT (with -If aggregates) among requests with the same range, grain,
// zone, dimensions, filters and comparison. Results and errors are in
// request order; one bad request does not fail the others.
func (q *Querier) QueryBatch(ctx context.Context, reqs []Request) ([]*Result, []error) {
	results, errs := make([]*Result, len(reqs)), make([]error, len(reqs))
	fail := func(err error) ([]*Result, []error) {
		for i := range errs {
			errs[i] = err
		}
		return results, errs
	}
	scope, all, err := q.reg.load(ctx)
	if err != nil {
		return fail(err)
	}
	now := q.cfg.Now()
	var order []string
	groups := map[string][]int{}
	plans := make([]*plan, len(reqs))
	for i, req := range reqs {
		p, err := newPlan(req, scope, all, now)
		if err == nil {
			err = q.checkRange(p)
		}
		if err != nil {
			errs[i] = err
			continue
		}
		if q.cfg.DisableRollups {
			p.path = PathRaw
		}
		p.sharded = q.cfg.Cluster != ""
		plans[i] = p
		k := p.groupKey()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	dirty := dirtyLists{} // the groups of a batch (a render) share their dirty-day lists
	for _, k := range order {
		idx := groups[k]
		ps := make([]*plan, len(idx))
		for j, i := range idx {
			ps[j] = plans[i]
		}
		res, err := newGroup(ps).run(ctx, q.db, dirty)
		for j, i := range idx {
			if err != nil {
				errs[i] = err
				continue
			}
			results[i] = res[j]
		}
	}
	return results, errs
}

// checkRange applies CheckRange to the plan's range and to its comparison
// range (an error on the latter names the field compareTo).
func (q *Querier) checkRange(p *plan) error {
	return CheckRanges(q.cfg.CheckRange, p.rng, p.cmp, "")
}
