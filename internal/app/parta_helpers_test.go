package app_test

import (
	"testing"
	"time"

	"github.com/roomd/roomd/internal/config"
)

// Part A's switches of the conformance tests (conformance_test.go): every part-A callback
// switched on, golden files in testdata/parta.

const (
	cmdUpdate    = "Live.CallbackAfterUpdateRoomInfo"
	cmdSetMeta   = "Live.CallbackAfterSetMetadata"
	cmdDelMeta   = "Live.CallbackAfterDelMetadata"
	cmdThreshold = "Live.CallbackAfterCreateRoomReachingThreshold"
)

// paStart is the manual clock's start in part A: 2026-01-01T00:00:00Z exactly.
var paStart = time.Unix(startUnix, 0)

// startPA starts roomd on a manual clock with a receiver for every part-A callback and the
// create/destroy callbacks.
func startPA(t *testing.T, opts ...serverOption) *confEnv {
	t.Helper()
	return startConformance(t, "parta", paStart, []string{cmdCreate, cmdDestroy, cmdUpdate, cmdSetMeta, cmdDelMeta, cmdThreshold}, opts...)
}

func withRoomQuota(n int) serverOption {
	return func(c *config.Config) { c.Apps[0].RoomQuota = n }
}

// withRateLimits switches the app's rate limits on, with optional per-API overrides.
func withRateLimits(perAPI map[string]int) serverOption {
	return func(c *config.Config) {
		on := true
		c.Apps[0].RateLimit = config.RateLimit{Enabled: &on, PerAPI: perAPI}
	}
}

// create creates a room from a RoomInfo object.
func (e *confEnv) create(info map[string]any) {
	e.t.Helper()
	if _, ok := info["RoomType"]; !ok {
		info["RoomType"] = "Live"
	}
	mustOK(e.t, e.call(svc+"create_room", map[string]any{"RoomInfo": info}))
}

// roomInfo returns get_room_info's reply for a room.
func (e *confEnv) roomInfo(t *testing.T, id string) envelope {
	t.Helper()
	return mustOK(t, e.call(svc+"get_room_info", map[string]string{"RoomId": id}))
}
