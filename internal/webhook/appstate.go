package webhook

import "time"

// Breaker states of an app's callback delivery (AppDeliveryState.Breaker).
const (
	// BreakerClosed: the app's callbacks are delivered normally.
	BreakerClosed = "closed"
	// BreakerOpen: the app is paused; nothing is sent until the next probe.
	BreakerOpen = "open"
	// BreakerProbing: the app is paused and one probe attempt is in flight.
	BreakerProbing = "probing"
)

// AppDeliveryState is a snapshot of how the dispatcher treats one app's callbacks: its
// circuit breaker, its rooms and its rate limit. The delivery log (roomd_delivery/
// get_app_state) and the metrics show it.
type AppDeliveryState struct {
	App uint64
	// Breaker is BreakerClosed, BreakerOpen or BreakerProbing.
	Breaker string
	// ConsecutiveFailures counts failed attempts since the last success.
	ConsecutiveFailures int
	// OpenedAt is when the breaker opened (zero while closed); NextProbeAt when the next
	// probe is due (zero unless open).
	OpenedAt, NextProbeAt time.Time
	// Opened, Probes and ProbesFailed count since the process started.
	Opened, Probes, ProbesFailed int64
	// HoldExpired counts events dead because max_room_hold was reached.
	HoldExpired int64
	// RateLimited counts the times an attempt waited for the app's max_per_second.
	RateLimited int64
	// Rooms is the app's rooms with undelivered events in memory; PausedRooms those due
	// but held by the open breaker; WaitingRooms those waiting out a retry backoff.
	Rooms, PausedRooms, WaitingRooms int
	// Events is the app's undelivered events in memory.
	Events int
	// InFlight is the app's attempts in flight.
	InFlight int
}
