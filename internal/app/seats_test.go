package app_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// Conformance of the seat APIs (room_engine_http_mic): get_seat_list, pick_user_on_seat,
// kick_user_off_seat, lock_seat, switch_seat, move_user_to_seat, and the callback
// Mic.CallbackAfterSeatInfoChanged they fire.

const (
	mic     = "room_engine_http_mic/"
	cmdSeat = "Mic.CallbackAfterSeatInfoChanged"
)

// startWithSeatCallbacks starts roomd with the seat callback switched on; golden files in
// testdata/seats.
func startWithSeatCallbacks(t *testing.T) *confEnv {
	t.Helper()
	return startConformance(t, "seats", clockStart, []string{cmdSeat})
}

// seatRoom creates an AudioSalon room with n seats owned by owner (KeepOwnerOnSeat as
// given) and puts members in it (robots, which are members without a client connection).
func (e *confEnv) seatRoom(id, owner string, n int, keepOwner bool, members ...string) {
	e.t.Helper()
	e.create(map[string]any{"RoomId": id, "Owner_Account": owner, "SeatTemplate": "AudioSalon", "MaxSeatCount": n, "KeepOwnerOnSeat": keepOwner})
	e.join(id, true, members...)
}

// seats returns who sits on each seat ("" empty, "#" locked) as get_seat_list answers.
func (e *confEnv) seats(t *testing.T, id string) []string {
	t.Helper()
	env := mustOK(t, e.call(mic+"get_seat_list", map[string]string{"RoomId": id}))
	var r struct {
		SeatList []struct {
			Index           int
			Member_Account  string
			IsTakenDisabled bool
		}
	}
	if err := json.Unmarshal(env.Response, &r); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(r.SeatList))
	for i, s := range r.SeatList {
		out[i] = s.Member_Account
		if s.IsTakenDisabled {
			out[i] = "#"
		}
	}
	return out
}

// wantSeats checks a room's seats after a row.
func (e *confEnv) wantSeats(id string, want ...string) func(t *testing.T, env envelope) {
	return func(t *testing.T, _ envelope) {
		t.Helper()
		if got := e.seats(t, id); !slices.Equal(got, want) {
			t.Errorf("seats of %s = %q, want %q", id, got, want)
		}
	}
}

// runSeatCases runs conformance rows against a seat API; a refused row must leave the
// snapshot of the watched rooms and their seat lists unchanged.
func (e *confEnv) runSeatCases(t *testing.T, api string, watch []string, cases []confCase) {
	t.Helper()
	state := func() string {
		s := e.snapshot(watch...)
		for _, id := range watch {
			env := e.call(mic+"get_seat_list", map[string]string{"RoomId": id})
			s += fmt.Sprintf("%s get_seat_list: %d %s\n", id, env.ErrorCode, env.Response)
		}
		return s
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before string
			if c.code != 0 {
				before = state()
			}
			env := e.call(mic+api, c.body)
			if c.code == 0 {
				mustOK(t, env)
			} else {
				mustFail(t, env, c.code)
				if after := state(); after != before {
					t.Errorf("rejected request changed state:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			}
			if c.golden != "" {
				e.golden(t, c.golden, normalizeReply(env.Raw))
			}
			if c.check != nil {
				c.check(t, env)
			}
		})
	}
}

// seatCallbacks returns how many seat callbacks were stored.
func (e *confEnv) seatCallbacks(n int) func(t *testing.T, env envelope) {
	return func(t *testing.T, _ envelope) {
		t.Helper()
		if got := len(e.events(cmdSeat)); got != n {
			t.Errorf("%d seat callbacks stored, want %d", got, n)
		}
	}
}

func TestGetSeatList(t *testing.T) {
	e := startWithSeatCallbacks(t)
	e.importAccounts("anchor", "guest")
	e.seatRoom("s1", "anchor", 4, false, "guest")
	mustOK(t, e.call(mic+"pick_user_on_seat", `{"RoomId":"s1","Index":1,"Member_Account":"guest"}`))
	mustOK(t, e.call(mic+"lock_seat", `{"RoomId":"s1","Index":3,"ForbidTaken":true,"ForbidAudio":true}`))
	e.create(map[string]any{"RoomId": "video", "SeatTemplate": "VideoLandscape4Seats", "MaxSeatCount": 16})
	e.create(map[string]any{"RoomId": "noseats", "IsSeatEnabled": false})
	e.runSeatCases(t, "get_seat_list", []string{"s1"}, []confCase{
		{name: "a member, a lock, empty seats", body: `{"RoomId":"s1"}`, golden: "get_seat_list"},
		{name: "a video template has its own count", body: `{"RoomId":"video"}`, check: func(t *testing.T, env envelope) {
			if n := len(e.seats(t, "video")); n != 4 {
				t.Errorf("%d seats, want 4", n)
			}
		}},
		{name: "a room without seats", body: `{"RoomId":"noseats"}`, check: func(t *testing.T, env envelope) {
			if string(env.Response) != `{"SeatList":[]}` {
				t.Errorf("Response %s", env.Response)
			}
		}},
		{name: "RoomId missing", body: `{}`, code: 100002},
		{name: "RoomId 49 bytes", body: `{"RoomId":"` + rep("r", 49) + `"}`, code: 100002},
		{name: "room does not exist", body: `{"RoomId":"nope"}`, code: 100004},
		{name: "body not JSON", body: `{"RoomId":`, code: 60003},
	})
}

func TestPickUserOnSeat(t *testing.T) {
	e := startWithSeatCallbacks(t)
	e.importAccounts("anchor", "g1", "g2", "g3", "outsider")
	e.seatRoom("p1", "anchor", 3, true, "g1", "g2", "g3")
	e.create(map[string]any{"RoomId": "noseats", "IsSeatEnabled": false})
	e.join("noseats", true, "g1")
	pick := func(room string, index int, user string) string {
		return fmt.Sprintf(`{"RoomId":%q,"Index":%d,"Member_Account":%q}`, room, index, user)
	}
	e.runSeatCases(t, "pick_user_on_seat", []string{"p1"}, []confCase{
		{name: "a member on seat 1", body: pick("p1", 1, "g1"), golden: "pick_user_on_seat", check: func(t *testing.T, env envelope) {
			e.wantSeats("p1", "", "g1", "")(t, env)
			e.seatCallbacks(1)(t, env)
		}},
		{name: "already on a seat", body: pick("p1", 2, "g1"), code: 100203},
		{name: "seat occupied", body: pick("p1", 1, "g2"), code: 100210},
		{name: "the owner's seat 0 (KeepOwnerOnSeat)", body: pick("p1", 0, "g2"), code: 100200},
		{name: "not a member", body: pick("p1", 2, "outsider"), code: 100005},
		{name: "not an account at all: not a member", body: pick("p1", 2, "ghost"), code: 100005},
		{name: "Index past the last seat", body: pick("p1", 3, "g2"), code: 100002},
		{name: "Index negative", body: pick("p1", -1, "g2"), code: 100002},
		{name: "Index missing", body: `{"RoomId":"p1","Member_Account":"g2"}`, code: 100002},
		{name: "Index not a number", body: `{"RoomId":"p1","Index":"2","Member_Account":"g2"}`, code: 100002},
		{name: "Member_Account missing", body: `{"RoomId":"p1","Index":2}`, code: 100002},
		{name: "Member_Account not a string", body: `{"RoomId":"p1","Index":2,"Member_Account":7}`, code: 60015},
		{name: "room without seats", body: pick("noseats", 0, "g1"), code: 100211},
		{name: "room does not exist", body: pick("nope", 0, "g1"), code: 100004},
		{name: "RoomId missing", body: `{"Index":0,"Member_Account":"g1"}`, code: 100002},
		{name: "the last seat", body: pick("p1", 2, "g2"), check: e.wantSeats("p1", "", "g1", "g2")},
		{name: "all seats full", body: pick("p1", 1, "g3"), code: 100205},
	})
	cbs := e.callbacksOf(t, cmdSeat, 2)
	e.golden(t, "pick_user_on_seat_callbacks", renderCallbacks(cbs))
}

func TestKickUserOffSeat(t *testing.T) {
	e := startWithSeatCallbacks(t)
	e.importAccounts("anchor", "g1", "g2")
	e.seatRoom("k1", "anchor", 3, true, "anchor", "g1", "g2")
	mustOK(t, e.call(mic+"pick_user_on_seat", `{"RoomId":"k1","Index":0,"Member_Account":"anchor"}`))
	mustOK(t, e.call(mic+"pick_user_on_seat", `{"RoomId":"k1","Index":2,"Member_Account":"g1"}`))
	e.create(map[string]any{"RoomId": "free", "Owner_Account": "anchor", "SeatTemplate": "Karaoke", "MaxSeatCount": 2, "KeepOwnerOnSeat": false})
	e.join("free", true, "anchor")
	mustOK(t, e.call(mic+"pick_user_on_seat", `{"RoomId":"free","Index":0,"Member_Account":"anchor"}`))
	e.runSeatCases(t, "kick_user_off_seat", []string{"k1", "free"}, []confCase{
		{name: "a guest", body: `{"RoomId":"k1","Member_Account":"g1","Data":"thanks"}`, golden: "kick_user_off_seat",
			check: e.wantSeats("k1", "anchor", "", "")},
		{name: "a member on no seat: nothing to do", body: `{"RoomId":"k1","Member_Account":"g2","Data":""}`, check: e.seatCallbacks(4)},
		{name: "the owner is kept on its seat", body: `{"RoomId":"k1","Member_Account":"anchor","Data":""}`, code: 100006},
		{name: "the owner of a room that does not keep it", body: `{"RoomId":"free","Member_Account":"anchor","Data":""}`,
			check: e.wantSeats("free", "", "")},
		{name: "Data missing", body: `{"RoomId":"k1","Member_Account":"g1"}`, code: 100002},
		{name: "Data not a string", body: `{"RoomId":"k1","Member_Account":"g1","Data":1}`, code: 100002},
		{name: "Member_Account missing", body: `{"RoomId":"k1","Data":""}`, code: 100002},
		{name: "room does not exist", body: `{"RoomId":"nope","Member_Account":"g1","Data":""}`, code: 100004},
		{name: "RoomId missing", body: `{"Member_Account":"g1","Data":""}`, code: 100002},
	})
}

func TestLockSeat(t *testing.T) {
	e := startWithSeatCallbacks(t)
	e.importAccounts("anchor", "g1")
	e.seatRoom("l1", "anchor", 3, true, "g1")
	mustOK(t, e.call(mic+"pick_user_on_seat", `{"RoomId":"l1","Index":1,"Member_Account":"g1"}`))
	e.create(map[string]any{"RoomId": "noseats", "IsSeatEnabled": false})
	locks := func(t *testing.T, want string) {
		t.Helper()
		env := mustOK(t, e.call(mic+"get_seat_list", `{"RoomId":"l1"}`))
		var r struct{ SeatList []json.RawMessage }
		json.Unmarshal(env.Response, &r)
		if got := string(r.SeatList[1]); got != want {
			t.Errorf("seat 1 = %s, want %s", got, want)
		}
	}
	e.runSeatCases(t, "lock_seat", []string{"l1"}, []confCase{
		{name: "video and audio only: the occupant stays", body: `{"RoomId":"l1","Index":1,"ForbidVideo":true,"ForbidAudio":true}`,
			golden: "lock_seat", check: func(t *testing.T, env envelope) {
				locks(t, `{"Index":1,"Member_Account":"g1","IsTakenDisabled":false,"IsVideoDisabled":true,"IsAudioDisabled":true}`)
			}},
		{name: "locking the seat kicks its occupant first", body: `{"RoomId":"l1","Index":1,"ForbidTaken":true}`, check: func(t *testing.T, env envelope) {
			locks(t, `{"Index":1,"IsTakenDisabled":true,"IsVideoDisabled":true,"IsAudioDisabled":true}`)
		}},
		{name: "a locked seat refuses users", body: `{"RoomId":"l1","Index":2,"ForbidTaken":false}`, check: func(t *testing.T, env envelope) {
			mustFail(t, e.call(mic+"pick_user_on_seat", `{"RoomId":"l1","Index":1,"Member_Account":"g1"}`), 100200)
		}},
		{name: "fields left out stay as they are", body: `{"RoomId":"l1","Index":1,"ForbidVideo":false}`, check: func(t *testing.T, env envelope) {
			locks(t, `{"Index":1,"IsTakenDisabled":true,"IsVideoDisabled":false,"IsAudioDisabled":true}`)
		}},
		{name: "unlock", body: `{"RoomId":"l1","Index":1,"ForbidTaken":false,"ForbidAudio":false}`, check: func(t *testing.T, env envelope) {
			locks(t, `{"Index":1,"IsTakenDisabled":false,"IsVideoDisabled":false,"IsAudioDisabled":false}`)
		}},
		{name: "the owner's seat 0 cannot be locked", body: `{"RoomId":"l1","Index":0,"ForbidTaken":true}`, code: 100006},
		{name: "but its audio can", body: `{"RoomId":"l1","Index":0,"ForbidAudio":true}`},
		{name: "Index past the last seat", body: `{"RoomId":"l1","Index":3,"ForbidTaken":true}`, code: 100002},
		{name: "Index missing", body: `{"RoomId":"l1","ForbidTaken":true}`, code: 100002},
		{name: "ForbidTaken not a boolean", body: `{"RoomId":"l1","Index":1,"ForbidTaken":1}`, code: 100002},
		{name: "room without seats", body: `{"RoomId":"noseats","Index":0,"ForbidTaken":true}`, code: 100211},
		{name: "room does not exist", body: `{"RoomId":"nope","Index":0}`, code: 100004},
	})
	cbs := e.callbacksOf(t, cmdSeat, 6)
	e.golden(t, "lock_seat_callbacks", renderCallbacks(cbs[1:3]))
}

func TestSwitchSeat(t *testing.T) {
	e := startWithSeatCallbacks(t)
	e.importAccounts("anchor", "g1", "g2", "g3")
	e.seatRoom("w1", "anchor", 4, true, "g1", "g2", "g3")
	mustOK(t, e.call(mic+"pick_user_on_seat", `{"RoomId":"w1","Index":1,"Member_Account":"g1"}`))
	mustOK(t, e.call(mic+"pick_user_on_seat", `{"RoomId":"w1","Index":2,"Member_Account":"g2"}`))
	mustOK(t, e.call(mic+"lock_seat", `{"RoomId":"w1","Index":3,"ForbidTaken":true}`))
	e.runSeatCases(t, "switch_seat", []string{"w1"}, []confCase{
		{name: "to an empty seat", body: `{"RoomId":"w1","ToIndex":1,"Member_Account":"g2"}`, code: 100210},
		{name: "to a locked seat", body: `{"RoomId":"w1","ToIndex":3,"Member_Account":"g1"}`, code: 100200},
		{name: "to the owner's seat", body: `{"RoomId":"w1","ToIndex":0,"Member_Account":"g1"}`, code: 100200},
		{name: "a user on no seat", body: `{"RoomId":"w1","ToIndex":0,"Member_Account":"g3"}`, code: 100002},
		{name: "ToIndex missing", body: `{"RoomId":"w1","Member_Account":"g1"}`, code: 100002},
		{name: "ToIndex past the last seat", body: `{"RoomId":"w1","ToIndex":4,"Member_Account":"g1"}`, code: 100002},
		{name: "room does not exist", body: `{"RoomId":"nope","ToIndex":0,"Member_Account":"g1"}`, code: 100004},
		{name: "to its own seat: nothing to do", body: `{"RoomId":"w1","ToIndex":1,"Member_Account":"g1"}`, check: e.seatCallbacks(3)},
		{name: "unlock then switch", body: `{"RoomId":"w1","ToIndex":2,"Member_Account":"g2"}`, check: func(t *testing.T, env envelope) {
			mustOK(t, e.call(mic+"lock_seat", `{"RoomId":"w1","Index":3,"ForbidTaken":false}`))
			mustOK(t, e.call(mic+"switch_seat", `{"RoomId":"w1","ToIndex":3,"Member_Account":"g2"}`))
			e.wantSeats("w1", "", "g1", "", "g2")(t, env)
		}},
	})
	mustOK(t, e.call(mic+"switch_seat", `{"RoomId":"w1","ToIndex":2,"Member_Account":"g1"}`))
	e.golden(t, "switch_seat_callback", renderCallbacks(e.callbacksOf(t, cmdSeat, 6)[5:]))
}

func TestMoveUserToSeat(t *testing.T) {
	e := startWithSeatCallbacks(t)
	e.importAccounts("anchor", "g1", "g2")
	e.seatRoom("m1", "anchor", 3, false, "g1", "g2")
	mustOK(t, e.call(mic+"pick_user_on_seat", `{"RoomId":"m1","Index":0,"Member_Account":"g1"}`))
	mustOK(t, e.call(mic+"pick_user_on_seat", `{"RoomId":"m1","Index":1,"Member_Account":"g2"}`))
	move := func(user string, index, policy int) string {
		return fmt.Sprintf(`{"RoomId":"m1","SeatIndex":%d,"Member_Account":%q,"Policy":%d}`, index, user, policy)
	}
	e.runSeatCases(t, "move_user_to_seat", []string{"m1"}, []confCase{
		{name: "to an empty seat", body: move("g1", 2, 0), golden: "move_user_to_seat", check: e.wantSeats("m1", "", "g2", "g1")},
		{name: "occupied, cancel", body: move("g1", 1, 0), code: 100210},
		{name: "occupied, swap", body: move("g1", 1, 2), check: e.wantSeats("m1", "", "g1", "g2")},
		{name: "occupied, force: the occupant is kicked off", body: move("g1", 2, 1), check: e.wantSeats("m1", "", "", "g1")},
		{name: "Policy unknown", body: move("g1", 0, 3), code: 100002},
		{name: "Policy missing", body: `{"RoomId":"m1","SeatIndex":0,"Member_Account":"g1"}`, code: 100002},
		{name: "SeatIndex missing", body: `{"RoomId":"m1","Member_Account":"g1","Policy":0}`, code: 100002},
		{name: "a user on no seat", body: move("g2", 0, 0), code: 100002},
		{name: "room does not exist", body: `{"RoomId":"nope","SeatIndex":0,"Member_Account":"g1","Policy":0}`, code: 100004},
	})
}

// TestLeavingTheRoomFreesTheSeat: a robot deleted from the room and a banned robot leave
// their seats, each with a seat callback (robots have no member-state callbacks; the order of
// the seat and member-state callbacks of people is pinned by room TestSeatRules).
func TestLeavingTheRoomFreesTheSeat(t *testing.T) {
	e := startConformance(t, "seats", clockStart, []string{cmdSeat, cmdMemberState})
	e.importAccounts("anchor", "bot", "g1")
	e.seatRoom("f1", "anchor", 3, false)
	mustOK(t, e.call(svc+"add_robot", `{"RoomId":"f1","RobotList_Account":["bot","g1"]}`))
	mustOK(t, e.call(mic+"pick_user_on_seat", `{"RoomId":"f1","Index":0,"Member_Account":"bot"}`))
	mustOK(t, e.call(mic+"pick_user_on_seat", `{"RoomId":"f1","Index":2,"Member_Account":"g1"}`))
	mustOK(t, e.call(svc+"del_robot", `{"RoomId":"f1","RobotList_Account":["bot"]}`))
	e.wantSeats("f1", "", "", "g1")(t, envelope{})
	mustOK(t, e.call(svc+"ban_member", `{"RoomId":"f1","MemberList_Account":["g1"],"Duration":60}`))
	e.wantSeats("f1", "", "", "")(t, envelope{})
	cbs := e.callbacksOf(t, cmdSeat, 4)
	var last struct {
		SeatList []struct{ Member_Account string }
	}
	json.Unmarshal(cbs[3].Body, &last)
	for _, s := range last.SeatList {
		if s.Member_Account != "" {
			t.Errorf("last seat callback %s, want every seat empty", cbs[3].Body)
		}
	}
}
