package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomd/roomd/internal/webhook"
)

// RegisterAppStates adds the per-app delivery metrics, read from states at scrape time: the
// circuit breaker's state, its openings and probes, the rooms it holds paused, the events
// dead-lettered by max_room_hold and the waits for max_per_second.
func (m *Metrics) RegisterAppStates(states func() []webhook.AppDeliveryState) {
	m.reg.MustRegister(&appStateCollector{
		states: states,
		open: prometheus.NewDesc("roomd_callback_breaker_open",
			"1 while the app's circuit breaker is open or probing (the app is paused), 0 while closed.", []string{"app"}, nil),
		state: prometheus.NewDesc("roomd_callback_breaker_state",
			"The app's circuit breaker state: 1 for the current one of closed, open, probing.", []string{"app", "state"}, nil),
		opened: prometheus.NewDesc("roomd_callback_breaker_opened_total",
			"Times the app's circuit breaker opened.", []string{"app"}, nil),
		probes: prometheus.NewDesc("roomd_callback_breaker_probes_total",
			"Probe attempts of a paused app, by outcome (ok, failed; in flight probes are in neither).", []string{"app", "outcome"}, nil),
		paused: prometheus.NewDesc("roomd_callback_paused_rooms",
			"Rooms whose due callback is held back by the app's open breaker.", []string{"app"}, nil),
		waiting: prometheus.NewDesc("roomd_callback_waiting_rooms",
			"Rooms whose head callback waits out a retry backoff.", []string{"app"}, nil),
		holdExpired: prometheus.NewDesc("roomd_callback_hold_expired_total",
			"Callbacks dead-lettered because max_room_hold was reached.", []string{"app"}, nil),
		rateLimited: prometheus.NewDesc("roomd_callback_rate_limited_total",
			"Times the app's delivery waited for its max_per_second.", []string{"app"}, nil),
	})
}

type appStateCollector struct {
	states                                                                 func() []webhook.AppDeliveryState
	open, state, opened, probes, paused, waiting, holdExpired, rateLimited *prometheus.Desc
}

func (c *appStateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.state, c.opened, c.probes, c.paused, c.waiting, c.holdExpired, c.rateLimited} {
		ch <- d
	}
}

func (c *appStateCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, s := range c.states() {
		app := strconv.FormatUint(s.App, 10)
		open := 0.0
		if s.Breaker != webhook.BreakerClosed {
			open = 1
		}
		gauge(c.open, open, app)
		for _, st := range []string{webhook.BreakerClosed, webhook.BreakerOpen, webhook.BreakerProbing} {
			v := 0.0
			if st == s.Breaker {
				v = 1
			}
			gauge(c.state, v, app, st)
		}
		counter(c.opened, s.Opened, app)
		inFlight := int64(0)
		if s.Breaker == webhook.BreakerProbing {
			inFlight = 1
		}
		counter(c.probes, s.Probes-s.ProbesFailed-inFlight, app, "ok")
		counter(c.probes, s.ProbesFailed, app, "failed")
		gauge(c.paused, float64(s.PausedRooms), app)
		gauge(c.waiting, float64(s.WaitingRooms), app)
		counter(c.holdExpired, s.HoldExpired, app)
		counter(c.rateLimited, s.RateLimited, app)
	}
}
