package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/store"
)

// Part B's switches of the conformance tests (conformance_test.go) and its tests: members,
// admins, mutes, bans, room messages and their callbacks; golden files in testdata/partb.

const (
	cmdModifyAdmin   = "Live.CallbackAfterModifyAdmin"
	cmdMemberState   = "Live.CallbackAfterMemberStateChanged"
	cmdBeforeSendMsg = "Group.CallbackBeforeSendMsg"
	cmdAfterSendMsg  = "Group.CallbackAfterSendMsg"
)

// startPB starts roomd on a manual clock (at 2026-01-01T00:00:00.250Z, so that whole-second
// rounding shows) with a receiver for the part-B After-callbacks; opts run after that.
func startPB(t *testing.T, opts ...serverOption) *confEnv {
	t.Helper()
	return startConformance(t, "partb", time.Unix(startUnix, 250_000_000), []string{cmdModifyAdmin, cmdMemberState, cmdAfterSendMsg}, opts...)
}

// withBeforeSendMsg switches Group.CallbackBeforeSendMsg on with a timeout and failure policy.
func withBeforeSendMsg(timeout time.Duration, onFailure string) serverOption {
	return func(c *config.Config) {
		cb := c.Apps[0].Callback
		cb.Commands = append(cb.Commands, cmdBeforeSendMsg)
		cb.Timeout = timeout
		cb.BeforeSendMsgOnFailure = onFailure
	}
}

// importN imports accounts prefix0 … prefix(n-1) straight into the store.
func (e *confEnv) importN(prefix string, n int) []string {
	e.t.Helper()
	users := make([]string, n)
	e.tx(func(ctx context.Context, tx store.Tx) error {
		for i := range users {
			users[i] = fmt.Sprintf("%s%d", prefix, i)
			if _, err := tx.AccountUpsert(ctx, store.Account{App: testApp, UserID: users[i], CreatedAt: e.clk.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	return users
}

// join puts users into a room as members (robot marks robots), one millisecond apart, the
// way the client API will.
func (e *confEnv) join(room string, robot bool, users ...string) {
	e.t.Helper()
	e.tx(func(ctx context.Context, tx store.Tx) error {
		for i, u := range users {
			at := e.clk.Now().Add(time.Duration(i) * time.Millisecond)
			if _, err := tx.MemberAdd(ctx, store.Member{App: testApp, RoomID: room, UserID: u, IsRobot: robot, JoinedAt: at}); err != nil {
				return err
			}
		}
		return nil
	})
}

func accountsJSON(users []string) string {
	b, _ := json.Marshal(users)
	return string(b)
}

// ---------------------------------------------------------------------------------------
// get_member_list

func TestPartBGetMemberList(t *testing.T) {
	e := startPB(t)
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

// ---------------------------------------------------------------------------------------
// modify_admin, get_admin_list

func TestPartBModifyAdmin(t *testing.T) {
	e := startPB(t)
	e.importAccounts("owner", "a1", "a2")
	e.createRoom("r1", "owner")
	more := e.importN("x", 10)

	e.runCases(t, "modify_admin", []string{"r1"}, []confCase{
		{name: "add", body: `{"RoomId":"r1","Admin_Account":["a1","a2","a1"],"OpType":"add"}`, golden: "modify_admin"},
		{name: "add again changes nothing", body: `{"RoomId":"r1","Admin_Account":["a1"],"OpType":"add"}`},
		{name: "not imported", body: `{"RoomId":"r1","Admin_Account":["a1","ghost"],"OpType":"add"}`, code: 70107},
		{name: "owner", body: `{"RoomId":"r1","Admin_Account":["owner"],"OpType":"add"}`, code: 100002},
		{name: "OpType unknown", body: `{"RoomId":"r1","Admin_Account":["a1"],"OpType":"Add"}`, code: 100002},
		{name: "OpType missing", body: `{"RoomId":"r1","Admin_Account":["a1"]}`, code: 100002},
		{name: "no accounts", body: `{"RoomId":"r1","Admin_Account":[],"OpType":"add"}`, code: 100002},
		{name: "empty account", body: `{"RoomId":"r1","Admin_Account":[""],"OpType":"add"}`, code: 100002},
		{name: "account not a string", body: `{"RoomId":"r1","Admin_Account":[7],"OpType":"add"}`, code: 60015},
		{name: "11 in one call", body: `{"RoomId":"r1","Admin_Account":` + accountsJSON(e.importN("y", 11)) + `,"OpType":"add"}`, code: 100002},
		{name: "unknown room", body: `{"RoomId":"nope","Admin_Account":["a1"],"OpType":"add"}`, code: 100004},
		{name: "up to 10 admins", body: `{"RoomId":"r1","Admin_Account":` + accountsJSON(more[:8]) + `,"OpType":"add"}`},
		{name: "the 11th admin", body: `{"RoomId":"r1","Admin_Account":["` + more[8] + `"],"OpType":"add"}`, code: 100002},
		{name: "delete", body: `{"RoomId":"r1","Admin_Account":["a2","owner","ghost"],"OpType":"delete"}`},
		{name: "delete non-admins changes nothing", body: `{"RoomId":"r1","Admin_Account":["a2"],"OpType":"delete"}`},
		{name: "room for one more", body: `{"RoomId":"r1","Admin_Account":["` + more[8] + `"],"OpType":"add"}`},
	})

	env := mustOK(t, e.call(svc+"get_admin_list", `{"RoomId":"r1"}`))
	got := response[struct{ Admin_Account []string }](t, env).Admin_Account
	want := append([]string{"a1"}, more[:9]...)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("admins = %v, want %v", got, want)
	}

	// Four callbacks: the first add, the eight, the delete of a2, the last add.
	cbs := e.callbacksOf(t, cmdModifyAdmin, 4)
	e.golden(t, "modify_admin_callbacks", renderCallbacks(cbs))
	if n := len(e.events(cmdModifyAdmin)); n != 4 {
		t.Errorf("%d ModifyAdmin events stored, want 4 (no-op calls send none)", n)
	}
}

func TestPartBGetAdminList(t *testing.T) {
	e := startPB(t)
	e.importAccounts("owner", "a1", "a2")
	e.createRoom("r1", "owner")
	e.createRoom("r2", "owner")
	mustOK(t, e.call(svc+"modify_admin", `{"RoomId":"r1","Admin_Account":["a2","a1"],"OpType":"add"}`))
	e.runCases(t, "get_admin_list", []string{"r1"}, []confCase{
		{name: "in order added", body: `{"RoomId":"r1"}`, golden: "get_admin_list"},
		{name: "none", body: `{"RoomId":"r2"}`, golden: "get_admin_list_empty"},
		{name: "unknown room", body: `{"RoomId":"nope"}`, code: 100004},
		{name: "no RoomId", body: `{}`, code: 100002},
	})
	// A room destroyed and created again starts without admins.
	mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"r1"}`))
	e.createRoom("r1", "owner")
	env := mustOK(t, e.call(svc+"get_admin_list", `{"RoomId":"r1"}`))
	if got := response[struct{ Admin_Account []string }](t, env).Admin_Account; len(got) != 0 {
		t.Errorf("recreated room has admins %v", got)
	}
}

// ---------------------------------------------------------------------------------------
// mute_member, get_muted_member_list

func TestPartBMuteMember(t *testing.T) {
	e := startPB(t)
	e.importAccounts("owner", "u1", "u2", "u3")
	e.createRoom("r1", "owner")
	five := e.importN("z", 501)

	e.runCases(t, "mute_member", []string{"r1"}, []confCase{
		{name: "mute", body: `{"RoomId":"r1","MemberList_Account":["u1","u2"],"MuteTime":600}`, golden: "mute_member"},
		{name: "mute again replaces the end", body: `{"RoomId":"r1","MemberList_Account":["u2"],"MuteTime":60}`},
		{name: "longest", body: `{"RoomId":"r1","MemberList_Account":["u3"],"MuteTime":4294967295}`},
		{name: "too long", body: `{"RoomId":"r1","MemberList_Account":["u1"],"MuteTime":4294967296}`, code: 100002},
		{name: "negative", body: `{"RoomId":"r1","MemberList_Account":["u1"],"MuteTime":-1}`, code: 100002},
		{name: "MuteTime missing", body: `{"RoomId":"r1","MemberList_Account":["u1"]}`, code: 100002},
		{name: "MuteTime a string", body: `{"RoomId":"r1","MemberList_Account":["u1"],"MuteTime":"60"}`, code: 100002},
		{name: "not imported", body: `{"RoomId":"r1","MemberList_Account":["u1","ghost"],"MuteTime":60}`, code: 70107},
		{name: "no accounts", body: `{"RoomId":"r1","MemberList_Account":[],"MuteTime":60}`, code: 100002},
		{name: "501 accounts", body: `{"RoomId":"r1","MemberList_Account":` + accountsJSON(five) + `,"MuteTime":60}`, code: 100002},
		{name: "500 accounts", body: `{"RoomId":"r1","MemberList_Account":` + accountsJSON(five[:500]) + `,"MuteTime":60}`},
		{name: "500 unmuted", body: `{"RoomId":"r1","MemberList_Account":` + accountsJSON(five[:500]) + `,"MuteTime":0}`},
		{name: "unknown room", body: `{"RoomId":"nope","MemberList_Account":["u1"],"MuteTime":60}`, code: 100004},
		{name: "unmute an unknown account", body: `{"RoomId":"r1","MemberList_Account":["ghost"],"MuteTime":0}`},
	})
	// Started at .250 s: MutedUntil counts from the whole second.
	e.runCases(t, "get_muted_member_list", []string{"r1"}, []confCase{
		{name: "list", body: `{"RoomId":"r1","Next":"","Count":20}`, golden: "get_muted_member_list"},
		{name: "unknown room", body: `{"RoomId":"nope"}`, code: 100004},
		{name: "no RoomId", body: `{}`, code: 100002},
	})

	muted := func() string {
		env := mustOK(t, e.call(svc+"get_muted_member_list", `{"RoomId":"r1"}`))
		var names []string
		for _, m := range response[struct {
			MutedAccountList []struct {
				Member_Account string
				MutedUntil     int64
			}
		}](t, env).MutedAccountList {
			names = append(names, fmt.Sprintf("%s@%d", m.Member_Account, m.MutedUntil))
		}
		return strings.Join(names, ",")
	}
	start := startUnix
	// u2's mute ends at start+60: still muted 59.75 s later, gone at exactly start+60.
	e.clk.Advance(59*time.Second + 500*time.Millisecond)
	if got, want := muted(), fmt.Sprintf("u1@%d,u2@%d,u3@%d", start+600, start+60, start+4294967295); got != want {
		t.Errorf("at +59.75 s muted = %s, want %s", got, want)
	}
	mustFail(t, e.call(svc+"send_text_msg", `{"RoomId":"r1","Sender_Account":"u2","TextContent":"hi"}`), 10017)
	e.clk.Advance(250 * time.Millisecond)
	if got, want := muted(), fmt.Sprintf("u1@%d,u3@%d", start+600, start+4294967295); got != want {
		t.Errorf("at +60 s muted = %s, want %s", got, want)
	}
	mustOK(t, e.call(svc+"send_text_msg", `{"RoomId":"r1","Sender_Account":"u2","TextContent":"hi"}`))
	mustOK(t, e.call(svc+"mute_member", `{"RoomId":"r1","MemberList_Account":["u1"],"MuteTime":0}`))
	if got, want := muted(), fmt.Sprintf("u3@%d", start+4294967295); got != want {
		t.Errorf("after unmute muted = %s, want %s", got, want)
	}
}

// ---------------------------------------------------------------------------------------
// ban_member, unban_member, get_banned_member_list

func TestPartBBanMember(t *testing.T) {
	e := startPB(t)
	e.importAccounts("owner", "u1", "u2", "u3", "bot")
	e.createRoom("r1", "owner")
	e.join("r1", false, "u1", "u2")
	e.join("r1", true, "bot")
	many := e.importN("b", 21)

	e.runCases(t, "ban_member", []string{"r1"}, []confCase{
		{name: "ban members and a non-member", body: `{"RoomId":"r1","MemberList_Account":["u1","bot","u3"],"Duration":3600,"Reason":"spam"}`, golden: "ban_member"},
		{name: "ban non-members only", body: `{"RoomId":"r1","MemberList_Account":["u3"],"Duration":120}`},
		{name: "21 accounts", body: `{"RoomId":"r1","MemberList_Account":` + accountsJSON(many) + `,"Duration":60}`, code: 100002},
		{name: "Duration 0", body: `{"RoomId":"r1","MemberList_Account":["u2"],"Duration":0}`, code: 100002},
		{name: "Duration missing", body: `{"RoomId":"r1","MemberList_Account":["u2"]}`, code: 100002},
		{name: "Duration too long", body: `{"RoomId":"r1","MemberList_Account":["u2"],"Duration":4294967296}`, code: 100002},
		{name: "Reason 201 bytes", body: `{"RoomId":"r1","MemberList_Account":["u2"],"Duration":60,"Reason":"` + rep("r", 201) + `"}`, code: 100002},
		{name: "owner", body: `{"RoomId":"r1","MemberList_Account":["u2","owner"],"Duration":60}`, code: 100002},
		{name: "not imported", body: `{"RoomId":"r1","MemberList_Account":["u2","ghost"],"Duration":60}`, code: 70107},
		{name: "no accounts", body: `{"RoomId":"r1","Duration":60}`, code: 100002},
		{name: "unknown room", body: `{"RoomId":"nope","MemberList_Account":["u2"],"Duration":60}`, code: 100004},
		{name: "20 accounts, Reason 200 bytes", body: `{"RoomId":"r1","MemberList_Account":` + accountsJSON(many[:20]) + `,"Duration":60,"Reason":"` + rep("r", 200) + `"}`},
	})

	// u1 and the robot were removed, u2 stays; one Kicked callback for the first ban only.
	env := mustOK(t, e.call(svc+"get_member_list", `{"RoomId":"r1"}`))
	e.golden(t, "ban_member_members_after", normalizeReply(env.Raw))
	cbs := e.callbacksOf(t, cmdMemberState, 1)
	e.golden(t, "ban_member_callback", renderCallbacks(cbs))
	if n := len(e.events(cmdMemberState)); n != 1 {
		t.Errorf("%d MemberStateChanged events, want 1 (none when nobody was removed)", n)
	}

	// The ban blocks re-entry until it ends (store BanActive, used by every way in).
	active := func(user string) bool {
		ok, err := e.Srv.Store().BanActive(context.Background(), testApp, "r1", user, e.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !active("u1") || !active("bot") || active("u2") {
		t.Errorf("BanActive u1=%v bot=%v u2=%v, want true true false", active("u1"), active("bot"), active("u2"))
	}
	mustFail(t, e.call(svc+"add_robot", `{"RoomId":"r1","RobotList_Account":["bot"]}`), 100006)
	e.clk.Advance(3600*time.Second - 251*time.Millisecond)
	if !active("bot") {
		t.Error("ban ended before Duration")
	}
	e.clk.Advance(time.Millisecond) // started at .250: the ban ends at the whole second
	if active("u1") || active("bot") {
		t.Error("ban still active after Duration")
	}
	mustOK(t, e.call(svc+"add_robot", `{"RoomId":"r1","RobotList_Account":["bot"]}`))
}

func TestPartBBannedListAndUnban(t *testing.T) {
	e := startPB(t)
	e.importAccounts("owner")
	e.createRoom("r1", "owner")
	users := e.importN("u", 105)
	for i := 0; i < 105; i += 20 {
		batch := users[i:min(i+20, 105)]
		mustOK(t, e.call(svc+"ban_member", `{"RoomId":"r1","MemberList_Account":`+accountsJSON(batch)+`,"Duration":`+fmt.Sprint(100+i)+`,"Reason":"batch `+fmt.Sprint(i/20)+`"}`))
		e.clk.Advance(time.Second)
	}
	type page struct {
		BannedAccountList []struct {
			Member_Account string
			BannedUntil    int64
			Reason         string
		}
		NextOffset int
	}
	e.runCases(t, "get_banned_member_list", []string{"r1"}, []confCase{
		{name: "small page", body: `{"RoomId":"r1","Offset":0,"Limit":2}`, golden: "get_banned_member_list"},
		{name: "default limit 100", body: `{"RoomId":"r1"}`, check: func(t *testing.T, env envelope) {
			p := response[page](t, env)
			if len(p.BannedAccountList) != 100 || p.NextOffset != 100 {
				t.Errorf("got %d, NextOffset %d; want 100, 100", len(p.BannedAccountList), p.NextOffset)
			}
		}},
		{name: "limit 100", body: `{"RoomId":"r1","Offset":100,"Limit":100}`, check: func(t *testing.T, env envelope) {
			p := response[page](t, env)
			if len(p.BannedAccountList) != 5 || p.NextOffset != 0 || p.BannedAccountList[4].Member_Account != "u104" {
				t.Errorf("last page = %+v", p)
			}
		}},
		{name: "limit 101", body: `{"RoomId":"r1","Limit":101}`, code: 100002},
		{name: "negative limit", body: `{"RoomId":"r1","Limit":-1}`, code: 100002},
		{name: "negative offset", body: `{"RoomId":"r1","Offset":-1}`, code: 100002},
		{name: "unknown room", body: `{"RoomId":"nope"}`, code: 100004},
	})
	e.runCases(t, "unban_member", []string{"r1"}, []confCase{
		{name: "unban", body: `{"RoomId":"r1","MemberList_Account":["u0","u1","ghost"]}`, golden: "unban_member"},
		{name: "again", body: `{"RoomId":"r1","MemberList_Account":["u0"]}`},
		{name: "21 accounts", body: `{"RoomId":"r1","MemberList_Account":` + accountsJSON(users[:21]) + `}`, code: 100002},
		{name: "20 accounts", body: `{"RoomId":"r1","MemberList_Account":` + accountsJSON(users[2:22]) + `}`},
		{name: "none", body: `{"RoomId":"r1","MemberList_Account":[]}`, code: 100002},
		{name: "unknown room", body: `{"RoomId":"nope","MemberList_Account":["u1"]}`, code: 100004},
	})
	// 83 left; the first batch still listed (u22…u104), until the earliest bans end.
	p := response[page](t, mustOK(t, e.call(svc+"get_banned_member_list", `{"RoomId":"r1","Limit":100}`)))
	if len(p.BannedAccountList) != 83 || p.BannedAccountList[0].Member_Account != "u22" {
		t.Fatalf("after unban: %d listed, first %+v", len(p.BannedAccountList), p.BannedAccountList[0])
	}
	// Batch k was banned at start+k s for 100+20k s, so it ends at start+k+100+20k: batch 1
	// (u20…u39, of which u22… are left) at start+121, batch 2 at start+142.
	e.clk.Advance(95 * time.Second) // now start+101.250
	p = response[page](t, mustOK(t, e.call(svc+"get_banned_member_list", `{"RoomId":"r1","Limit":100}`)))
	if len(p.BannedAccountList) != 83 {
		t.Fatalf("batch 1 (ends at start+121) expired too early: %d listed", len(p.BannedAccountList))
	}
	e.clk.Advance(21 * time.Second) // now start+122.250: batch 1 ended
	p = response[page](t, mustOK(t, e.call(svc+"get_banned_member_list", `{"RoomId":"r1","Limit":100}`)))
	if len(p.BannedAccountList) != 65 || p.BannedAccountList[0].Member_Account != "u40" {
		t.Fatalf("after batch 1 expired: %d listed, first %+v", len(p.BannedAccountList), p.BannedAccountList[0])
	}
}

// ---------------------------------------------------------------------------------------
// send_text_msg, send_custom_msg

func TestPartBSendTextMsg(t *testing.T) {
	e := startPB(t)
	e.importAccounts("owner", "u1", "u2", "adm")
	e.createRoom("r1", "owner")
	e.createRoom("quiet", "owner")
	mustOK(t, e.call(svc+"update_room_info", `{"RoomInfo":{"RoomId":"quiet","IsMessageDisabled":true}}`))
	mustOK(t, e.call(svc+"modify_admin", `{"RoomId":"quiet","Admin_Account":["adm"],"OpType":"add"}`))
	mustOK(t, e.call(svc+"mute_member", `{"RoomId":"r1","MemberList_Account":["u2"],"MuteTime":60}`))
	e.importAccounts("u3")
	mustOK(t, e.call(svc+"ban_member", `{"RoomId":"r1","MemberList_Account":["u3"],"Duration":60}`))

	seq := func(want int64) func(*testing.T, envelope) {
		return func(t *testing.T, env envelope) {
			r := response[struct{ MsgTime, MsgSeq int64 }](t, env)
			if r.MsgSeq != want || r.MsgTime != startUnix {
				t.Errorf("MsgSeq %d MsgTime %d, want %d %d", r.MsgSeq, r.MsgTime, want, startUnix)
			}
		}
	}
	e.runCases(t, "send_text_msg", []string{"r1", "quiet"}, []confCase{
		{name: "text", body: `{"RoomId":"r1","Sender_Account":"u1","TextContent":"hello <world> & \u4f60\u597d"}`, golden: "send_text_msg"},
		{name: "with ExtensionInfo", body: `{"RoomId":"r1","Sender_Account":"u1","TextContent":"hi","ExtensionInfo":"{\"level\":3}"}`, check: seq(2)},
		{name: "TextContent 12 KB", body: `{"RoomId":"r1","Sender_Account":"u1","TextContent":"` + rep("t", 12288) + `"}`, check: seq(3)},
		{name: "TextContent 12 KB + 1", body: `{"RoomId":"r1","Sender_Account":"u1","TextContent":"` + rep("t", 12289) + `"}`, code: 100002},
		{name: "TextContent missing", body: `{"RoomId":"r1","Sender_Account":"u1"}`, code: 100002},
		{name: "TextContent empty", body: `{"RoomId":"r1","Sender_Account":"u1","TextContent":""}`, code: 100002},
		{name: "ExtensionInfo not JSON", body: `{"RoomId":"r1","Sender_Account":"u1","TextContent":"hi","ExtensionInfo":"{level"}`, code: 100002},
		{name: "ExtensionInfo an object", body: `{"RoomId":"r1","Sender_Account":"u1","TextContent":"hi","ExtensionInfo":{"level":3}}`, code: 100002},
		{name: "ExtensionInfo 12 KB + 1", body: `{"RoomId":"r1","Sender_Account":"u1","TextContent":"hi","ExtensionInfo":"\"` + rep("e", 12287) + `\""}`, code: 100002},
		{name: "Sender_Account missing", body: `{"RoomId":"r1","TextContent":"hi"}`, code: 100002},
		{name: "Sender_Account a number", body: `{"RoomId":"r1","Sender_Account":7,"TextContent":"hi"}`, code: 60015},
		{name: "sender not imported", body: `{"RoomId":"r1","Sender_Account":"ghost","TextContent":"hi"}`, code: 70107},
		{name: "unknown room", body: `{"RoomId":"nope","Sender_Account":"u1","TextContent":"hi"}`, code: 100004},
		{name: "muted sender", body: `{"RoomId":"r1","Sender_Account":"u2","TextContent":"hi"}`, code: 10017, golden: "send_text_msg_muted"},
		{name: "banned sender", body: `{"RoomId":"r1","Sender_Account":"u3","TextContent":"hi"}`, code: 100006},
		{name: "chat disabled", body: `{"RoomId":"quiet","Sender_Account":"u1","TextContent":"hi"}`, code: 10017},
		{name: "chat disabled: owner", body: `{"RoomId":"quiet","Sender_Account":"owner","TextContent":"hi"}`, check: seq(1)},
		{name: "chat disabled: room admin", body: `{"RoomId":"quiet","Sender_Account":"adm","TextContent":"hi"}`, check: seq(2)},
		{name: "chat disabled: App admin", body: `{"RoomId":"quiet","Sender_Account":"admin","TextContent":"hi"}`, check: seq(3)},
		{name: "next in r1", body: `{"RoomId":"r1","Sender_Account":"u1","TextContent":"again"}`, check: seq(4)},
	})

	hist := e.history("r1")
	if len(hist) != 4 {
		t.Fatalf("history of r1 has %d messages, want 4", len(hist))
	}
	for i, m := range hist {
		if m.Seq != int64(i+1) || m.Sender != "u1" || !m.Time.Equal(e.clk.Now()) {
			t.Errorf("message %d = seq %d sender %s time %v", i, m.Seq, m.Sender, m.Time)
		}
	}
	if string(hist[1].Body) != `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]` || hist[1].CloudCustomData != `{"level":3}` {
		t.Errorf("stored message 2 = %s %q", hist[1].Body, hist[1].CloudCustomData)
	}
	stats := response[struct{ TotalMsgCount int64 }](t, mustOK(t, e.call(svc+"get_room_stats", `{"RoomId":"r1"}`)))
	if stats.TotalMsgCount != 4 {
		t.Errorf("TotalMsgCount = %d, want 4", stats.TotalMsgCount)
	}
	cbs := e.callbacksOf(t, cmdAfterSendMsg, 7)
	var r1 []callbackRequest
	for _, c := range cbs {
		if strings.Contains(string(c.Body), `"GroupId":"r1"`) && !strings.Contains(string(c.Body), "tttt") {
			r1 = append(r1, c)
		}
	}
	e.golden(t, "send_text_msg_callbacks", renderCallbacks(r1))
}

func TestPartBSendCustomMsg(t *testing.T) {
	e := startPB(t)
	e.importAccounts("owner", "u1")
	e.createRoom("r1", "owner")
	e.runCases(t, "send_custom_msg", []string{"r1"}, []confCase{
		{name: "custom", body: `{"RoomId":"r1","Sender_Account":"u1","BusinessId":"gift","Data":"{\"id\":7}"}`, golden: "send_custom_msg"},
		{name: "without sender: the admin", body: `{"RoomId":"r1","BusinessId":"like","Data":""}`},
		{name: "Data a number (one doc types it Integer)", body: `{"RoomId":"r1","BusinessId":"n","Data":12.50}`},
		{name: "BusinessId missing", body: `{"RoomId":"r1","Data":"x"}`, code: 100002},
		{name: "Data missing", body: `{"RoomId":"r1","BusinessId":"b"}`, code: 100002},
		{name: "Data null", body: `{"RoomId":"r1","BusinessId":"b","Data":null}`, code: 100002},
		{name: "Data an object", body: `{"RoomId":"r1","BusinessId":"b","Data":{"a":1}}`, code: 100002},
		{name: "content 12 KB", body: `{"RoomId":"r1","BusinessId":"b","Data":"` + rep("d", 12288-len(`{"BusinessId":"b","Data":""}`)) + `"}`},
		{name: "content 12 KB + 1", body: `{"RoomId":"r1","BusinessId":"b","Data":"` + rep("d", 12289-len(`{"BusinessId":"b","Data":""}`)) + `"}`, code: 100002},
		{name: "sender not imported", body: `{"RoomId":"r1","Sender_Account":"ghost","BusinessId":"b","Data":"x"}`, code: 70107},
		{name: "unknown room", body: `{"RoomId":"nope","BusinessId":"b","Data":"x"}`, code: 100004},
	})
	hist := e.history("r1")
	if len(hist) != 4 {
		t.Fatalf("history has %d messages, want 4", len(hist))
	}
	if hist[1].Sender != testAdmin || string(hist[2].Body) != `[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"{\"BusinessId\":\"n\",\"Data\":\"12.50\"}"}}]` {
		t.Errorf("history: %s %s / %s", hist[1].Sender, hist[1].Body, hist[2].Body)
	}
	cbs := e.callbacksOf(t, cmdAfterSendMsg, 4)
	e.golden(t, "send_custom_msg_callbacks", renderCallbacks(cbs[:3]))
}

// ---------------------------------------------------------------------------------------
// Group.CallbackBeforeSendMsg: an App backend that vetoes, modifies, drops, times out and
// answers garbage, decided by the text it is asked about.

// beforeBackend answers Group.CallbackBeforeSendMsg by the message text and After-callbacks
// with OK. "slow" blocks until the test ends.
func beforeBackend(t *testing.T, e *confEnv) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	e.rc.setRespond(func(n int, r callbackRequest, w http.ResponseWriter) {
		reply := `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`
		if r.Command == cmdBeforeSendMsg {
			var body struct {
				MsgBody []struct {
					MsgContent struct{ Text string }
				}
			}
			json.Unmarshal(r.Body, &body)
			switch body.MsgBody[0].MsgContent.Text {
			case "veto":
				reply = `{"ActionStatus":"FAIL","ErrorInfo":"not here","ErrorCode":1}`
			case "veto-silent":
				reply = `{"ErrorCode":1}`
			case "veto-10150":
				reply = `{"ActionStatus":"FAIL","ErrorInfo":"you are level 1","ErrorCode":10150}`
			case "veto-10201":
				reply = `{"ActionStatus":"FAIL","ErrorInfo":"out of range","ErrorCode":10201}`
			case "modify":
				reply = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,
					"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"m*dified"}},{"MsgType":"TIMCustomElem","MsgContent":{"Desc":"CustomElement.MemberLevel","Data":"LV1"}}],
					"CloudCustomData":"{\"checked\":true}"}`
			case "modify-ccd":
				reply = `{"ErrorCode":0,"CloudCustomData":""}`
			case "drop":
				reply = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":2}`
			case "slow":
				<-release
			case "garbage":
				reply = `<html>oops</html>`
			case "status-500":
				w.WriteHeader(http.StatusInternalServerError)
			case "no-code":
				reply = `{"ActionStatus":"OK"}`
			case "bad-body":
				reply = `{"ErrorCode":0,"MsgBody":"not a list"}`
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(reply))
	})
}

type sent struct {
	code    int
	info    string
	seq     int64
	msgTime int64
}

func (e *confEnv) send(text, ext string) sent {
	e.t.Helper()
	body := map[string]string{"RoomId": "r1", "Sender_Account": "u1", "TextContent": text}
	if ext != "" {
		body["ExtensionInfo"] = ext
	}
	env := e.call(svc+"send_text_msg", body)
	s := sent{code: env.ErrorCode, info: env.ErrorInfo}
	if env.ErrorCode == 0 {
		r := response[struct{ MsgTime, MsgSeq int64 }](e.t, env)
		s.seq, s.msgTime = r.MsgSeq, r.MsgTime
		if strings.Contains(string(env.Response), "MsgDropReason") {
			e.t.Errorf("%q: MsgDropReason in %s", text, env.Response)
		}
	}
	return s
}

func TestPartBBeforeSendMsgFailOpen(t *testing.T) {
	e := startPB(t, withBeforeSendMsg(300*time.Millisecond, "allow"))
	beforeBackend(t, e)
	e.importAccounts("owner", "u1")
	e.createRoom("r1", "owner")

	cases := []struct {
		text string
		want sent
	}{
		{"plain", sent{seq: 1}},
		{"veto", sent{code: 10016}},
		{"veto-silent", sent{code: 10016}},
		{"veto-10150", sent{code: 10150, info: "you are level 1"}},
		{"veto-10201", sent{code: 10016}},
		{"modify", sent{seq: 2}},
		{"modify-ccd", sent{seq: 3}},
		{"drop", sent{seq: 4}}, // the sender cannot tell: a number is used up
		{"after-drop", sent{seq: 5}},
		{"slow", sent{seq: 6}},    // fail-open: the original goes out
		{"garbage", sent{seq: 7}}, // idem
		{"status-500", sent{seq: 8}},
		{"no-code", sent{seq: 9}},
		{"bad-body", sent{seq: 10}}, // an unusable replacement is no valid reply
	}
	for _, c := range cases {
		got := e.send(c.text, `{"x":1}`)
		want := c.want
		if want.code == 0 {
			want.msgTime = startUnix
		}
		if want.info == "" {
			got.info = ""
		}
		if got != want {
			t.Errorf("%s: sender got %+v, want %+v", c.text, got, want)
		}
	}

	// History: what was allowed, with the replacements, and a gap at the dropped number 4.
	var hist []string
	for _, m := range e.history("r1") {
		hist = append(hist, fmt.Sprintf("%d %s %q", m.Seq, m.Body, m.CloudCustomData))
	}
	e.golden(t, "before_send_msg_history", []byte(strings.Join(hist, "\n")+"\n"))
	stats := response[struct{ TotalMsgCount int64 }](t, mustOK(t, e.call(svc+"get_room_stats", `{"RoomId":"r1"}`)))
	if stats.TotalMsgCount != 9 {
		t.Errorf("TotalMsgCount = %d, want 9 (dropped and vetoed messages are not counted)", stats.TotalMsgCount)
	}

	// The App backend saw a Before-callback for every message and an After-callback for every
	// stored one, with the replacement.
	// (The receiver records a request once it answered it; "slow" is still blocked.)
	befores := e.callbacksOf(t, cmdBeforeSendMsg, len(cases)-1)
	afters := e.callbacksOf(t, cmdAfterSendMsg, 9)
	e.golden(t, "before_send_msg_callbacks", renderCallbacks(append(befores[:1:1], afters[:2]...)))
	var modified callbackRequest
	for _, a := range afters {
		if strings.Contains(string(a.Body), "m*dified") {
			modified = a
		}
	}
	e.golden(t, "before_send_msg_modified_after", renderCallbacks([]callbackRequest{modified}))
	if befores[0].Header.Get("webhook-id") == "" || !strings.HasPrefix(befores[0].Header.Get("webhook-id"), "msg_") {
		t.Errorf("Before-callback webhook-id %q", befores[0].Header.Get("webhook-id"))
	}
	var b0, a0 struct {
		Random uint32
		MsgId  string
	}
	json.Unmarshal(befores[0].Body, &b0)
	json.Unmarshal(afters[0].Body, &a0)
	if b0 != a0 || !strings.HasSuffix(b0.MsgId, fmt.Sprintf("-%d-%d", startUnix, b0.Random)) {
		t.Errorf("Before %+v and After %+v differ in Random/MsgId", b0, a0)
	}

	// Delivery records: one Before event per message, final state, one attempt, never pending.
	evs := e.events(cmdBeforeSendMsg)
	if len(evs) != len(cases) {
		t.Fatalf("%d Before-callback records, want %d", len(evs), len(cases))
	}
	var states []string
	for _, ev := range evs {
		atts, err := e.Srv.Store().AttemptList(context.Background(), ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(atts) != 1 || ev.Attempts != 1 {
			t.Errorf("event %d: %d attempts recorded, Attempts=%d", ev.ID, len(atts), ev.Attempts)
		}
		states = append(states, strings.TrimSpace(string(ev.State)+" "+ev.LastError))
	}
	e.golden(t, "before_send_msg_records", []byte(strings.Join(states, "\n")+"\n"))
	und, err := e.Srv.Store().EventListUndelivered(context.Background(), store.EventListParams{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range und {
		if ev.Command == cmdBeforeSendMsg {
			t.Errorf("Before-callback event %d is %s", ev.ID, ev.State)
		}
	}
}

func TestPartBBeforeSendMsgFailClosed(t *testing.T) {
	e := startPB(t, withBeforeSendMsg(300*time.Millisecond, "reject"))
	beforeBackend(t, e)
	e.importAccounts("owner", "u1", "u2")
	e.createRoom("r1", "owner")
	mustOK(t, e.call(svc+"mute_member", `{"RoomId":"r1","MemberList_Account":["u2"],"MuteTime":60}`))

	for _, c := range []struct {
		text string
		want sent
	}{
		{"plain", sent{seq: 1, msgTime: startUnix}},
		{"slow", sent{code: 10016}},
		{"garbage", sent{code: 10016}},
		{"status-500", sent{code: 10016}},
		{"bad-body", sent{code: 10016}},
		{"drop", sent{seq: 2, msgTime: startUnix}},
		{"modify", sent{seq: 3, msgTime: startUnix}},
	} {
		got := e.send(c.text, "")
		got.info = ""
		if got != c.want {
			t.Errorf("%s: sender got %+v, want %+v", c.text, got, c.want)
		}
	}
	if h := e.history("r1"); len(h) != 2 || h[0].Seq != 1 || h[1].Seq != 3 {
		t.Errorf("history %+v, want seqs 1 and 3", h)
	}
	// A muted sender is refused before any callback is made.
	n := len(e.events(cmdBeforeSendMsg))
	env := e.call(svc+"send_text_msg", `{"RoomId":"r1","Sender_Account":"u2","TextContent":"plain"}`)
	mustFail(t, env, 10017)
	if len(e.events(cmdBeforeSendMsg)) != n {
		t.Error("a Before-callback was recorded for a muted sender")
	}
	fail := e.call(svc+"send_text_msg", `{"RoomId":"r1","Sender_Account":"u1","TextContent":"garbage"}`)
	e.golden(t, "before_send_msg_fail_closed", normalizeReply(fail.Raw))
}

func TestPartBBeforeSendMsgSwitchedOff(t *testing.T) {
	// The URL is set but the Before command is not switched on: no call, the message goes.
	e := startPB(t)
	beforeBackend(t, e)
	e.importAccounts("owner", "u1")
	e.createRoom("r1", "owner")
	if got := e.send("veto", ""); got.code != 0 || got.seq != 1 {
		t.Errorf("sender got %+v", got)
	}
	if n := len(e.events(cmdBeforeSendMsg)); n != 0 {
		t.Errorf("%d Before-callback records with the command switched off", n)
	}
}
