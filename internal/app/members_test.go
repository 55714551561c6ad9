package app_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of get_member_list and of the robot APIs add_robot, get_robot and del_robot
// (robots are members with the robot flag).

func TestGetMemberList(t *testing.T) {
	e := startWithMemberCallbacks(t, "members")
	e.importAccounts("owner")
	e.createRoom("r1", "owner")
	e.createRoom("empty", "owner")
	e.join("r1", false, "alice", "bob")
	e.join("r1", true, "robot1")

	e.runCases(t, "get_member_list", []string{"r1"}, []confCase{
		{name: "first page", body: `{"RoomId":"r1"}`, golden: "get_member_list"},
		{name: "Next 0 starts at the top", body: `{"RoomId":"r1","Next":"0"}`, golden: "get_member_list"},
		{name: "empty room", body: `{"RoomId":"empty","Next":""}`, golden: "get_member_list_empty"},
		{name: "unknown room", body: `{"RoomId":"nope"}`, code: 100004},
		{name: "no RoomId", body: `{}`, code: 100002},
		{name: "RoomId too long", body: `{"RoomId":"` + rep("x", 49) + `"}`, code: 100002},
		{name: "Next not ours", body: `{"RoomId":"r1","Next":"abc"}`, code: 100002},
		{name: "Next at the cap", body: `{"RoomId":"r1","Next":"1000.1.YQ"}`, code: 100002},
		{name: "Next a number", body: `{"RoomId":"r1","Next":5}`, code: 100002},
		{name: "body not an object", body: `[]`, code: 60003},
	})

	// 1005 members: pages of 100 in join order, Next empty after 1000, MemberCount 1005.
	big := e.importN("m", 1005)
	e.createRoom("big", "owner")
	e.join("big", false, big...)
	next, pages := "", 0
	var seen []string
	for {
		env := mustOK(t, e.call(svc+"get_member_list", map[string]string{"RoomId": "big", "Next": next}))
		page := response[struct {
			Next        string
			MemberCount int
			MemberList  []struct{ Member_Account string }
		}](t, env)
		pages++
		if page.MemberCount != 1005 {
			t.Fatalf("MemberCount = %d, want 1005", page.MemberCount)
		}
		for _, m := range page.MemberList {
			seen = append(seen, m.Member_Account)
		}
		if page.Next == "" {
			break
		}
		if pages > 20 {
			t.Fatal("paging does not end")
		}
		next = page.Next
	}
	if pages != 10 || len(seen) != 1000 {
		t.Fatalf("got %d members in %d pages, want 1000 in 10", len(seen), pages)
	}
	for i, u := range seen {
		if u != big[i] {
			t.Fatalf("member %d = %s, want %s (join order)", i, u, big[i])
		}
	}
}

// robots returns a room's robots as get_robot answers them.
func (e *confEnv) robots(t *testing.T, room string) []string {
	t.Helper()
	env := mustOK(t, e.call(svc+"get_robot", map[string]string{"RoomId": room}))
	var r struct{ RobotList_Account []string }
	if err := json.Unmarshal(env.Response, &r); err != nil {
		t.Fatal(err)
	}
	return r.RobotList_Account
}

func robotBody(room string, robots ...any) map[string]any {
	if robots == nil {
		robots = []any{}
	}
	return map[string]any{"RoomId": room, "RobotList_Account": robots}
}

func TestAddRobot(t *testing.T) {
	e := startWithRoomCallbacks(t, "members")
	e.importAccounts("bot1", "bot2", "bot3", "bot4", "human", "banned")
	e.create(map[string]any{"RoomId": "rb"})
	// A member who entered as a person (the people APIs' table), and a banned account.
	e.tx(func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.MemberAdd(ctx, store.Member{App: testApp, RoomID: "rb", UserID: "human", JoinedAt: clockStart}); err != nil {
			return err
		}
		return tx.BanPut(ctx, store.Ban{App: testApp, RoomID: "rb", UserID: "banned", Until: clockStart.Add(time.Minute), CreatedAt: clockStart})
	})
	robotsAre := func(want ...string) func(t *testing.T, env envelope) {
		return func(t *testing.T, _ envelope) {
			if got := e.robots(t, "rb"); !slices.Equal(got, want) {
				t.Errorf("robots %v, want %v", got, want)
			}
		}
	}
	e.runCases(t, "add_robot", []string{"rb"}, []confCase{
		{name: "two robots", body: robotBody("rb", "bot1", "bot2"), golden: "add_robot_reply", check: robotsAre("bot1", "bot2")},
		{name: "a robot again", body: robotBody("rb", "bot1", "bot1"), check: robotsAre("bot1", "bot2")},
		{name: "account not imported", body: robotBody("rb", "bot3", "ghost"), code: 70107},
		{name: "a fourth robot", body: robotBody("rb", "bot3", "bot4"), code: 100002},
		{name: "four in one request", body: robotBody("rb", "bot1", "bot2", "bot3", "bot4"), code: 100002},
		{name: "a person already in the room", body: robotBody("rb", "human"), code: 100002},
		{name: "a banned account", body: robotBody("rb", "banned"), code: 100006},
		{name: "the third robot", body: robotBody("rb", "bot3"), check: robotsAre("bot1", "bot2", "bot3")},
		{name: "at three, a known robot again", body: robotBody("rb", "bot3", "bot2"), check: robotsAre("bot1", "bot2", "bot3")},
		{name: "list empty", body: robotBody("rb"), code: 100002},
		{name: "list missing", body: `{"RoomId":"rb"}`, code: 100002},
		{name: "empty account", body: robotBody("rb", ""), code: 100002},
		{name: "account not a string", body: robotBody("rb", 7), code: 60015},
		{name: "RoomId missing", body: `{"RobotList_Account":["bot4"]}`, code: 100002},
		{name: "RoomId 49 bytes", body: robotBody(rep("r", 49), "bot4"), code: 100002},
		{name: "room does not exist", body: robotBody("nope", "bot4"), code: 100004},
	})
	// Robots are members flagged as robots; they are not viewers.
	ms, err := e.Srv.Store().MemberList(context.Background(), store.MemberListParams{App: testApp, RoomID: "rb", Kind: store.MembersRobots})
	if err != nil || len(ms) != 3 {
		t.Errorf("robot members %v, %v", ms, err)
	}
	if env := mustOK(t, e.call(svc+"get_room_stats", `{"RoomId":"rb"}`)); !strings.Contains(string(env.Response), `"TotalViewers":0`) {
		t.Errorf("robots counted as viewers: %s", env.Response)
	}
	// Robots go with their room.
	mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"rb"}`))
	if n, _ := e.Srv.Store().MemberCount(context.Background(), testApp, "rb", store.MembersAll); n != 0 {
		t.Errorf("%d members left after destroy", n)
	}
}

func TestGetRobot(t *testing.T) {
	e := startWithRoomCallbacks(t, "members")
	e.importAccounts("bot1", "bot2")
	e.create(map[string]any{"RoomId": "rb"})
	e.create(map[string]any{"RoomId": "none"})
	mustOK(t, e.call(svc+"add_robot", robotBody("rb", "bot2")))
	e.clk.Advance(time.Second)
	mustOK(t, e.call(svc+"add_robot", robotBody("rb", "bot1")))
	e.runCases(t, "get_robot", []string{"rb"}, []confCase{
		{name: "in the order added", body: `{"RoomId":"rb"}`, golden: "get_robot_reply"},
		{name: "no robots: empty list", body: `{"RoomId":"none"}`, check: func(t *testing.T, env envelope) {
			if string(env.Response) != `{"RobotList_Account":[]}` {
				t.Errorf("Response %s", env.Response)
			}
		}},
		{name: "RoomId missing", body: `{}`, code: 100002},
		{name: "RoomId 49 bytes", body: `{"RoomId":"` + rep("r", 49) + `"}`, code: 100002},
		{name: "room does not exist", body: `{"RoomId":"nope"}`, code: 100004},
	})
}

func TestDelRobot(t *testing.T) {
	e := startWithRoomCallbacks(t, "members")
	e.importAccounts("bot1", "bot2", "bot3", "human")
	e.create(map[string]any{"RoomId": "rb"})
	mustOK(t, e.call(svc+"add_robot", robotBody("rb", "bot1", "bot2", "bot3")))
	e.tx(func(ctx context.Context, tx store.Tx) error {
		_, err := tx.MemberAdd(ctx, store.Member{App: testApp, RoomID: "rb", UserID: "human", JoinedAt: clockStart})
		return err
	})
	robotsAre := func(want ...string) func(t *testing.T, env envelope) {
		return func(t *testing.T, _ envelope) {
			if got := e.robots(t, "rb"); !slices.Equal(got, want) {
				t.Errorf("robots %v, want %v", got, want)
			}
		}
	}
	e.runCases(t, "del_robot", []string{"rb"}, []confCase{
		{name: "one robot", body: robotBody("rb", "bot2"), golden: "del_robot_reply", check: robotsAre("bot1", "bot3")},
		{name: "the same again", body: robotBody("rb", "bot2"), check: robotsAre("bot1", "bot3")},
		{name: "a person is not a robot: untouched", body: robotBody("rb", "human"), check: func(t *testing.T, env envelope) {
			if _, err := e.Srv.Store().MemberGet(context.Background(), testApp, "rb", "human"); err != nil {
				t.Errorf("the person left the room: %v", err)
			}
		}},
		{name: "account not imported", body: robotBody("rb", "bot1", "ghost"), code: 70107},
		{name: "list empty", body: robotBody("rb"), code: 100002},
		{name: "account not a string", body: robotBody("rb", 1), code: 60015},
		{name: "RoomId 49 bytes", body: robotBody(rep("r", 49), "bot1"), code: 100002},
		{name: "room does not exist", body: robotBody("nope", "bot1"), code: 100004},
		{name: "the rest", body: robotBody("rb", "bot3", "bot1"), check: robotsAre()},
	})
}
