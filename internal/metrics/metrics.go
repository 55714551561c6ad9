// Package metrics exposes roomd's Prometheus metrics: callback queue depth and age, attempt
// outcomes and latencies, callbacks pruned by retention, and REST calls by API and error
// code.
package metrics

import (
	"context"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook/dispatcher"
)

// Metrics holds the collectors of one roomd process.
type Metrics struct {
	reg             *prometheus.Registry
	attempts        *prometheus.CounterVec
	attemptDuration prometheus.Histogram
	deliveryLatency prometheus.Histogram
	rest            *prometheus.CounterVec
	// restChildren are the children of rest used so far (see restCounter); restMu orders
	// their additions.
	restChildren atomic.Pointer[map[restKey]prometheus.Counter]
	restMu       sync.Mutex
	restDuration prometheus.Histogram
	pruned       *prometheus.CounterVec
}

// New registers roomd's metrics. dispatcherStats and eventStats are read at scrape time.
func New(dispatcherStats func() dispatcher.Stats, eventStats func(context.Context) (store.EventStats, error), now func() time.Time) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		reg: reg,
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomd_callback_attempts_total",
			Help: "Callback delivery attempts by command and outcome (delivered, retrying, dead).",
		}, []string{"command", "outcome"}),
		attemptDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "roomd_callback_attempt_duration_seconds",
			Help:    "Duration of one callback HTTP attempt.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		deliveryLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "roomd_callback_delivery_latency_seconds",
			Help:    "Time from a change's commit to its callback's successful delivery.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 20),
		}),
		rest: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomd_rest_requests_total",
			Help: "REST calls by API and Tencent error code (0 = success).",
		}, []string{"api", "code"}),
		restDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "roomd_rest_request_duration_seconds",
			Help:    "Duration of REST calls, from request to reply.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		pruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomd_callback_pruned_total",
			Help: "Callbacks (with their attempts) deleted by retention, by the state they were in (delivered, dead).",
		}, []string{"state"}),
	}
	m.restChildren.Store(&map[restKey]prometheus.Counter{})
	// Both states from the start, so that a rate() over them works before the first prune.
	m.pruned.WithLabelValues(string(store.EventDelivered))
	m.pruned.WithLabelValues(string(store.EventDead))
	reg.MustRegister(m.attempts, m.attemptDuration, m.deliveryLatency, m.rest, m.restDuration, m.pruned)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "roomd_callback_queue_in_memory",
		Help: "Undelivered callbacks held in the dispatcher's memory.",
	}, func() float64 { return float64(dispatcherStats().InMemory) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "roomd_callback_in_flight",
		Help: "Callback attempts in flight.",
	}, func() float64 { return float64(dispatcherStats().InFlight) }))
	reg.MustRegister(&eventCollector{stats: eventStats, now: now,
		depth: prometheus.NewDesc("roomd_callback_events", "Stored callbacks by state.", []string{"state"}, nil),
		age:   prometheus.NewDesc("roomd_callback_oldest_undelivered_age_seconds", "Age of the oldest pending or retrying callback (0 when none).", nil, nil),
	})
	return m
}

// StoreGroups registers roomd_store_transactions_total and roomd_store_tx_calls_total,
// read at scrape time from stats: the database transactions the store's writer has run and
// the Tx calls they carried (their ratio is the mean group-commit size).
func (m *Metrics) StoreGroups(stats func() (batches, calls uint64)) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "roomd_store_transactions_total",
		Help: "Database transactions run by the store's writer (group commits).",
	}, func() float64 { b, _ := stats(); return float64(b) }))
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "roomd_store_tx_calls_total",
		Help: "Store transaction calls carried by those transactions.",
	}, func() float64 { _, c := stats(); return float64(c) }))
}

// ObserveAttempt records one recorded delivery attempt.
func (m *Metrics) ObserveAttempt(r dispatcher.Result) {
	m.attempts.WithLabelValues(r.Event.Command, string(r.State)).Inc()
	m.attemptDuration.Observe(r.Attempt.Duration.Seconds())
	if r.State == store.EventDelivered && !r.Event.CreatedAt.IsZero() {
		m.deliveryLatency.Observe(r.Attempt.StartedAt.Add(r.Attempt.Duration).Sub(r.Event.CreatedAt).Seconds())
	}
}

// ObserveREST records one REST call.
func (m *Metrics) ObserveREST(api string, code int, d time.Duration) {
	m.restCounter(api, code).Inc()
	m.restDuration.Observe(d.Seconds())
}

// restKey is one child of roomd_rest_requests_total.
type restKey struct {
	api  string
	code int
}

// restCounter returns the counter of api and code. The children already used are kept in
// a map that is replaced, never changed, when one is added, so that a call looks its
// counter up without a lock, a label hash or the formatting of the code. The labels are
// bounded: api is one of the REST routes or "unknown", code one of the Tencent codes.
func (m *Metrics) restCounter(api string, code int) prometheus.Counter {
	if c, ok := (*m.restChildren.Load())[restKey{api, code}]; ok {
		return c
	}
	m.restMu.Lock()
	defer m.restMu.Unlock()
	old := *m.restChildren.Load()
	k := restKey{api, code}
	if c, ok := old[k]; ok {
		return c
	}
	c := m.rest.WithLabelValues(api, strconv.Itoa(code))
	next := make(map[restKey]prometheus.Counter, len(old)+1)
	maps.Copy(next, old)
	next[restKey{strings.Clone(api), code}] = c
	m.restChildren.Store(&next)
	return c
}

// ObservePruned counts n callbacks in state (delivered or dead) deleted by retention.
func (m *Metrics) ObservePruned(state store.EventState, n int) {
	if n > 0 {
		m.pruned.WithLabelValues(string(state)).Add(float64(n))
	}
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// eventCollector reads the outbox's counts at scrape time.
type eventCollector struct {
	stats      func(context.Context) (store.EventStats, error)
	now        func() time.Time
	depth, age *prometheus.Desc
}

func (c *eventCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.depth; ch <- c.age }

func (c *eventCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.depth, err)
		return
	}
	for state, n := range map[string]int64{"pending": s.Pending, "retrying": s.Retrying, "delivered": s.Delivered, "dead": s.Dead} {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(n), state)
	}
	age := 0.0
	if !s.OldestUndelivered.IsZero() {
		age = c.now().Sub(s.OldestUndelivered).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}

// OutboundRefusals registers roomd_outbound_refusals_total and returns the function that
// counts one connection refused by the outbound guard, by the refusing rule's kind
// (metadata, link_local, unspecified, multicast, broadcast, reserved, deny_list).
func (m *Metrics) OutboundRefusals() func(kind string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roomd_outbound_refusals_total",
		Help: "Outbound callback connections refused by the address guard, by reason.",
	}, []string{"reason"})
	m.reg.MustRegister(c)
	return func(kind string) { c.WithLabelValues(kind).Inc() }
}

// Readiness registers roomd_ready, 1 when ready (what GET /readyz answers 200 for) and 0
// otherwise, read at scrape time; and roomd_shutting_down, 1 from the moment a graceful
// stop begins.
func (m *Metrics) Readiness(ready func() bool, shuttingDown func() bool) {
	b := func(f func() bool) func() float64 {
		return func() float64 {
			if f() {
				return 1
			}
			return 0
		}
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "roomd_ready",
		Help: "1 when the store is reachable, its migrations applied and the process is not stopping (GET /readyz is 200).",
	}, b(ready)))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "roomd_shutting_down",
		Help: "1 once a graceful stop (SIGTERM, SIGINT) has begun.",
	}, b(shuttingDown)))
}
