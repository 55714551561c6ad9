package rest

import "context"

// getAppState answers roomd_delivery/get_app_state: how the dispatcher treats the calling
// app's callbacks now — its circuit breaker (closed, open or probing), the rooms paused or
// waiting out a backoff, and counters since the process started.
func (h *Handler) getAppState(_ context.Context, c *call) (any, error) {
	var req struct{}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	s := h.o.Delivery.AppState(c.app.ID)
	return struct {
		Breaker             string `json:"Breaker"`
		ConsecutiveFailures int    `json:"ConsecutiveFailures"`
		OpenedTime          int64  `json:"OpenedTime,omitempty"`
		NextProbeTime       int64  `json:"NextProbeTime,omitempty"`
		Opened              int64  `json:"Opened"`
		Probes              int64  `json:"Probes"`
		ProbesFailed        int64  `json:"ProbesFailed"`
		HoldExpired         int64  `json:"HoldExpired"`
		RateLimited         int64  `json:"RateLimited"`
		Rooms               int    `json:"Rooms"`
		PausedRooms         int    `json:"PausedRooms"`
		WaitingRooms        int    `json:"WaitingRooms"`
		Events              int    `json:"Events"`
		InFlight            int    `json:"InFlight"`
	}{
		Breaker: s.Breaker, ConsecutiveFailures: s.ConsecutiveFailures,
		OpenedTime: msOrZero(s.OpenedAt), NextProbeTime: msOrZero(s.NextProbeAt),
		Opened: s.Opened, Probes: s.Probes, ProbesFailed: s.ProbesFailed, HoldExpired: s.HoldExpired,
		RateLimited: s.RateLimited, Rooms: s.Rooms, PausedRooms: s.PausedRooms, WaitingRooms: s.WaitingRooms,
		Events: s.Events, InFlight: s.InFlight,
	}, nil
}
