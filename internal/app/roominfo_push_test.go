package app_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/roomd/roomd/client"
)

// Disabling the room's chat pushes onRoomInfoChanged then
// onSendMessageForAllUserDisableChanged; doing it again changes nothing — no callback, no
// push. REST's update_room_info with the value the room has is still called back (an
// explicit write, docs/decisions.md) but pushes nothing; changing it through REST pushes
// both.
func TestDisableSendingMessageForAllUserPushes(t *testing.T) {
	e := startClientEnv(t)
	alice, bob := e.dial(t, "alice", "Web"), e.dial(t, "bob", "Web")
	alice.call(t, "createRoom", map[string]string{"roomId": "r1"})
	alice.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	bob.call(t, "enterRoom", map[string]string{"roomId": "r1"})
	updates := func(n int) {
		t.Helper()
		e.rc.WaitFor(t, "update callbacks", 10*time.Second, func(g []callbackRequest) bool { return len(callbacksOf(g, cmdUpdate)) >= n })
	}
	// marker sets metadata: once bob has its push (and its callback came), everything the
	// steps before it caused has arrived too.
	marks := 0
	marker := func() {
		t.Helper()
		marks++
		mark := strconv.Itoa(marks)
		alice.call(t, "setRoomMetadataByAdmin", map[string]any{"roomId": "r1", "metadata": map[string]string{"mark": mark}})
		bob.waitPush(t, "onRoomMetadataChanged", `"mark":"`+mark+`"`)
		e.rc.WaitFor(t, "metadata callbacks", 10*time.Second, func(g []callbackRequest) bool { return len(callbacksOf(g, cmdSetMeta)) >= marks })
	}
	since := func(from int) []client.Notification { return bob.pushes()[from:] }

	n := len(bob.pushes())
	alice.call(t, "disableSendingMessageForAllUser", map[string]any{"roomId": "r1", "isDisable": true})
	bob.waitPush(t, "onSendMessageForAllUserDisableChanged", `"roomId":"r1"`, `"isDisable":true`)
	got := since(n)
	if len(got) != 2 || got[0].Method != "onRoomInfoChanged" || got[1].Method != "onSendMessageForAllUserDisableChanged" {
		t.Fatalf("bob got %s, want onRoomInfoChanged then onSendMessageForAllUserDisableChanged", notesText(got))
	}
	updates(1)

	// Again: nothing changes, nothing is sent.
	n = len(bob.pushes())
	alice.call(t, "disableSendingMessageForAllUser", map[string]any{"roomId": "r1", "isDisable": true})
	marker()
	if got := since(n); len(got) != 1 {
		t.Errorf("disabling a disabled chat pushed %s", notesText(got[:len(got)-1]))
	}
	if got := e.rc.All(); len(callbacksOf(got, cmdUpdate)) != 1 {
		t.Errorf("disabling a disabled chat was called back: %d update callbacks", len(callbacksOf(got, cmdUpdate)))
	}

	// REST writes the same value: called back, nothing pushed.
	n = len(bob.pushes())
	mustOK(t, e.call("live_engine_http_srv/update_room_info", map[string]any{"RoomInfo": map[string]any{"RoomId": "r1", "IsMessageDisabled": true}}))
	updates(2)
	marker()
	if got := since(n); len(got) != 1 {
		t.Errorf("REST's unchanged update pushed %s", notesText(got[:len(got)-1]))
	}

	// REST enables the chat: both pushes.
	n = len(bob.pushes())
	mustOK(t, e.call("live_engine_http_srv/update_room_info", map[string]any{"RoomInfo": map[string]any{"RoomId": "r1", "IsMessageDisabled": false}}))
	bob.waitPush(t, "onSendMessageForAllUserDisableChanged", `"isDisable":false`)
	if got := since(n); len(got) != 2 || got[0].Method != "onRoomInfoChanged" {
		t.Errorf("bob got %s", notesText(got))
	}
	updates(3)
}
