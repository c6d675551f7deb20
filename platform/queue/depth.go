package queue

import (
	"maps"
	"slices"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// taskStates are the state label values of analytics_queue_tasks.
var taskStates = []string{"pending", "active", "scheduled", "retry", "archived", "completed"}

// DepthCollector exports each queue's tasks by state and its latency (age
// of the oldest pending task), read from Redis through asynq's Inspector at
// every scrape. Every configured queue is exported, at zero before it holds
// a task. The numbers are the shared Redis's, the same on every replica
// that exports them: aggregate with max, not sum.
type DepthCollector struct {
	insp    *asynq.Inspector
	queues  []string
	tasks   *prometheus.Desc
	latency *prometheus.Desc
	up      *prometheus.Desc
}

// NewDepthCollector reads the queues named in weights (nil means
// DefaultQueues()) from rc; rc stays the caller's to close.
func NewDepthCollector(rc redis.UniversalClient, weights map[string]int) *DepthCollector {
	if weights == nil {
		weights = DefaultQueues()
	}
	return &DepthCollector{
		insp:   asynq.NewInspectorFromRedisClient(rc),
		queues: slices.Sorted(maps.Keys(weights)),
		tasks: prometheus.NewDesc("analytics_queue_tasks",
			"Background tasks in each queue by state (pending, active, scheduled, retry, archived, completed).",
			[]string{"queue", "state"}, nil),
		latency: prometheus.NewDesc("analytics_queue_latency_seconds",
			"Age of each queue's oldest pending task: how long the next task has waited for a worker.",
			[]string{"queue"}, nil),
		up: prometheus.NewDesc("analytics_queue_inspect_up",
			"1 when the last scrape could read the queues from Redis, 0 when it could not.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *DepthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.tasks
	ch <- c.latency
	ch <- c.up
}

// Collect implements prometheus.Collector. A queue that was never used is
// all zeros; Redis being unreachable sets analytics_queue_inspect_up to 0
// and exports no queue series (stale numbers would look healthy).
func (c *DepthCollector) Collect(ch chan<- prometheus.Metric) {
	type row struct {
		q    string
		info *asynq.QueueInfo
	}
	down := func() { ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0) }
	known, err := c.insp.Queues() // a queue exists in Redis once a task was enqueued to it
	if err != nil {
		down()
		return
	}
	rows := make([]row, 0, len(c.queues))
	for _, q := range c.queues {
		info := &asynq.QueueInfo{Queue: q}
		if slices.Contains(known, q) {
			if info, err = c.insp.GetQueueInfo(q); err != nil {
				down()
				return
			}
		}
		rows = append(rows, row{q, info})
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, r := range rows {
		i := r.info
		for n, v := range []int{i.Pending, i.Active, i.Scheduled, i.Retry, i.Archived, i.Completed} {
			ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(v), r.q, taskStates[n])
		}
		ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, i.Latency.Seconds(), r.q)
	}
}
