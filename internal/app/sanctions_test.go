package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Conformance of the sanctions: mute_member and get_muted_member_list (mutes), ban_member,
// unban_member and get_banned_member_list (bans), and the member-state callback of a ban.

func TestMuteMember(t *testing.T) {
	e := startWithMemberCallbacks(t, "sanctions")
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

func TestBanMember(t *testing.T) {
	e := startWithMemberCallbacks(t, "sanctions")
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

	// u1 and the robot were removed, u2 stays; one Kicked callback, for the first ban only,
	// naming u1 alone: a robot never had an Online callback, so it gets no Offline one.
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

func TestBannedListAndUnban(t *testing.T) {
	e := startWithMemberCallbacks(t, "sanctions")
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
