package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/store"
)

// Conformance of the IM paths: profile/portrait_get and portrait_set (with the owner's
// profile in get_room_info and get_room_list), group_open_http_svc/send_group_msg and the
// follow APIs with their callbacks.

const (
	cmdFollowAdd    = "Follow.CallbackAfterFollowAdd"
	cmdFollowDelete = "Follow.CallbackAfterFollowDelete"
)

// imCase is one row of an IM conformance table: the API (full "service/command"), the body,
// the ErrorCode it must get and, for a refused request, that the state did not change.
type imCase struct {
	name   string
	api    string
	body   any
	code   int
	golden string
	check  func(t *testing.T, env envelope)
}

// runIM runs the rows in order; state is what must not change when a row is refused.
func (e *confEnv) runIM(t *testing.T, state func() string, cases []imCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := state()
			env := e.call(c.api, c.body)
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

// profileState renders the stored profiles of users and the outbox size.
func (e *confEnv) profileState(users ...string) func() string {
	return func() string {
		var b strings.Builder
		ctx := context.Background()
		fmt.Fprintf(&b, "events=%d\n", len(e.allEvents()))
		for _, u := range users {
			a, err := e.Srv.Store().AccountGet(ctx, testApp, u)
			tags, _ := e.Srv.Store().ProfileTagList(ctx, testApp, u)
			fmt.Fprintf(&b, "%s %v nick=%q face=%q", u, err, a.Nick, a.FaceURL)
			for _, tg := range tags {
				fmt.Fprintf(&b, " %s=%s", tg.Tag, tg.Value)
			}
			b.WriteString("\n")
		}
		return b.String()
	}
}

func TestPortraitSetAndGet(t *testing.T) {
	e := startWithRoomCallbacks(t, "profiles")
	mustOK(t, e.call("im_open_login_svc/account_import", `{"UserID":"alice","Nick":"Alice","FaceUrl":"https://img/a.png"}`))
	e.importAccounts("bob")
	state := e.profileState("alice", "bob")
	long := rep("n", 501)
	set := "profile/portrait_set"
	get := "profile/portrait_get"
	e.runIM(t, state, []imCase{
		{name: "set nick and fields", api: set, body: `{"From_Account":"bob","ProfileItem":[
			{"Tag":"Tag_Profile_IM_Nick","Value":"Bob <b>"},{"Tag":"Tag_Profile_IM_Image","Value":"https://img/b.png"},
			{"Tag":"Tag_Profile_IM_Gender","Value":"Gender_Type_Male"},{"Tag":"Tag_Profile_IM_Level","Value":7},
			{"Tag":"Tag_Profile_IM_SelfSignature","Value":"hi"},{"Tag":"Tag_Profile_Custom_Test","Value":"c1"}]}`, golden: "portrait_set"},
		{name: "value 500 bytes", api: set, body: `{"From_Account":"bob","ProfileItem":[{"Tag":"Tag_Profile_IM_SelfSignature","Value":"` + rep("s", 500) + `"}]}`},
		{name: "value 501 bytes", api: set, body: `{"From_Account":"bob","ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"` + long + `"}]}`, code: 40601},
		{name: "not imported", api: set, body: `{"From_Account":"ghost","ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"x"}]}`, code: 40003},
		{name: "From_Account missing", api: set, body: `{"ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"x"}]}`, code: 40001},
		{name: "From_Account a number", api: set, body: `{"From_Account":5,"ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"x"}]}`, code: 60015},
		{name: "ProfileItem empty", api: set, body: `{"From_Account":"bob","ProfileItem":[]}`, code: 40001},
		{name: "unknown tag", api: set, body: `{"From_Account":"bob","ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"x"},{"Tag":"Tag_Profile_IM_Shoe","Value":"x"}]}`, code: 40001},
		{name: "custom name too long", api: set, body: `{"From_Account":"bob","ProfileItem":[{"Tag":"Tag_Profile_Custom_123456789","Value":"x"}]}`, code: 40001},
		{name: "number for a string", api: set, body: `{"From_Account":"bob","ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":3}]}`, code: 40001},
		{name: "string for a number", api: set, body: `{"From_Account":"bob","ProfileItem":[{"Tag":"Tag_Profile_IM_Level","Value":"3"}]}`, code: 40001},
		{name: "number out of range", api: set, body: `{"From_Account":"bob","ProfileItem":[{"Tag":"Tag_Profile_IM_Level","Value":4294967296}]}`, code: 40001},
		{name: "outside the enumeration", api: set, body: `{"From_Account":"bob","ProfileItem":[{"Tag":"Tag_Profile_IM_AllowType","Value":"Maybe"}]}`, code: 40001},
		{name: "not JSON", api: set, body: `{"From_Account":"bob",`, code: 60003},

		{name: "get", api: get, body: `{"To_Account":["alice","bob","ghost"],"TagList":["Tag_Profile_IM_Nick","Tag_Profile_IM_Image",
			"Tag_Profile_IM_Gender","Tag_Profile_IM_AllowType","Tag_Profile_IM_Level","Tag_Profile_Custom_Test"]}`, golden: "portrait_get"},
		{name: "get 100 accounts", api: get, body: map[string]any{"To_Account": e.importN("p", 100), "TagList": []string{"Tag_Profile_IM_Nick"}}},
		{name: "get 101 accounts", api: get, body: map[string]any{"To_Account": append(e.importN("p", 100), "alice"), "TagList": []string{"Tag_Profile_IM_Nick"}}, code: 40001},
		{name: "get no accounts", api: get, body: `{"To_Account":[],"TagList":["Tag_Profile_IM_Nick"]}`, code: 40001},
		{name: "get no tags", api: get, body: `{"To_Account":["alice"]}`, code: 40001},
		{name: "get unknown tag", api: get, body: `{"To_Account":["alice"],"TagList":["Tag_Profile_IM_Shoe"]}`, code: 40001},
	})

	// Importing an account again without Nick or FaceUrl keeps them; with them, replaces
	// them (an empty string too).
	mustOK(t, e.call("im_open_login_svc/account_import", `{"UserID":"alice"}`))
	mustOK(t, e.call("im_open_login_svc/multiaccount_import", `{"AccountList":[{"UserID":"alice"}],"Accounts":["alice"]}`))
	if got := e.profileState("alice")(); !strings.Contains(got, `nick="Alice" face="https://img/a.png"`) {
		t.Errorf("re-import without profile lost it: %s", got)
	}
	mustOK(t, e.call("im_open_login_svc/account_import", `{"UserID":"alice","FaceUrl":""}`))
	if got := e.profileState("alice")(); !strings.Contains(got, `nick="Alice" face=""`) {
		t.Errorf("re-import with an empty FaceUrl: %s", got)
	}

	// The owner's profile in get_room_info and get_room_list.
	e.createRoom("r1", "bob")
	e.golden(t, "get_room_info_owner", normalizeReply(e.roomInfo(t, "r1").Raw))
	mustOK(t, e.call(set, `{"From_Account":"bob","ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"Robert"}]}`))
	list := mustOK(t, e.call(svc+"get_room_list", `{"Next":"0","Count":20}`))
	if !strings.Contains(string(list.Response), `"OwnerName":"Robert","OwnerAvatarUrl":"https://img/b.png"`) {
		t.Errorf("get_room_list does not show the owner's new nick: %s", list.Response)
	}
}

// groupState renders the rooms' state (snapshot) without the outbox size: a message the
// Before-callback refused leaves that callback's delivery record, by design.
func (e *confEnv) groupState(rooms ...string) func() string {
	return func() string {
		s := e.snapshot(rooms...)
		return s[strings.IndexByte(s, '\n')+1:]
	}
}

func TestSendGroupMsg(t *testing.T) {
	e := startWithMemberCallbacks(t, "groupmsg", withBeforeSendMsg(time.Second, "allow"))
	beforeBackend(t, e)
	e.importAccounts("owner", "u1", "u2", "u3")
	e.createRoom("r1", "owner")
	mustOK(t, e.call(svc+"mute_member", `{"RoomId":"r1","MemberList_Account":["u2"],"MuteTime":60}`))
	mustOK(t, e.call(svc+"ban_member", `{"RoomId":"r1","MemberList_Account":["u3"],"Duration":60}`))

	// A connected member receives what the admin sends.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, strings.Replace(e.Base, "http", "ws", 1)+"/v1/client",
		client.Options{SDKAppID: testApp, UserID: "owner", UserSig: e.userSig("owner")})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Call(ctx, "enterRoom", map[string]string{"roomId": "r1"}, nil); err != nil {
		t.Fatal(err)
	}

	const api = "group_open_http_svc/send_group_msg"
	text := func(s string) string { return `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"` + s + `"}}]` }
	seq := func(want int64) func(*testing.T, envelope) {
		return func(t *testing.T, env envelope) {
			var r struct{ MsgTime, MsgSeq int64 }
			json.Unmarshal(env.Raw, &r)
			if r.MsgSeq != want || r.MsgTime != startUnix {
				t.Errorf("MsgSeq %d MsgTime %d, want %d %d", r.MsgSeq, r.MsgTime, want, startUnix)
			}
		}
	}
	e.runIM(t, e.groupState("r1"), []imCase{
		{name: "text from a member", api: api, body: `{"GroupId":"r1","From_Account":"u1","Random":8912345,"MsgBody":` + text("hello") + `,"CloudCustomData":"ccd"}`, golden: "send_group_msg"},
		{name: "same Random again: the same message", api: api, body: `{"GroupId":"r1","From_Account":"u1","Random":8912345,"MsgBody":` + text("hello") + `}`, check: seq(1)},
		{name: "without sender: the admin", api: api, body: `{"GroupId":"r1","Random":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a"}},{"MsgType":"TIMFaceElem","MsgContent":{"Index":6,"Data":"x"}},{"MsgType":"TIMTextElem","MsgContent":{"Text":"b"}}]}`, check: seq(2)},
		{name: "custom element", api: api, body: `{"GroupId":"r1","From_Account":"u1","Random":2,"MsgBody":[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"{\"cmd\":1}","Desc":"d"}}]}`, check: seq(3)},
		{name: "image only: not pushed", api: api, body: `{"GroupId":"r1","From_Account":"u1","Random":3,"MsgBody":[{"MsgType":"TIMImageElem","MsgContent":{"UUID":"u","ImageFormat":1}}]}`, check: seq(4)},
		{name: "callbacks forbidden", api: api, body: `{"GroupId":"r1","From_Account":"u1","Random":4,"MsgBody":` + text("veto") + `,"ForbidCallbackControl":["ForbidBeforeSendMsgCallback","ForbidAfterSendMsgCallback"]}`, check: seq(5)},
		{name: "no Random", api: api, body: `{"GroupId":"r1","From_Account":"u1","MsgBody":` + text("x") + `}`, check: seq(6)},
		{name: "MsgBody 12 KB", api: api, body: `{"GroupId":"r1","From_Account":"u1","MsgBody":` + text(rep("t", 12288-len(text("")))) + `}`, check: seq(7)},
		{name: "MsgBody 12 KB + 1", api: api, body: `{"GroupId":"r1","From_Account":"u1","MsgBody":` + text(rep("t", 12289-len(text("")))) + `}`, code: 80002},
		{name: "vetoed by the App backend", api: api, body: `{"GroupId":"r1","From_Account":"u1","MsgBody":` + text("veto") + `}`, code: 10016},
		{name: "muted sender", api: api, body: `{"GroupId":"r1","From_Account":"u2","MsgBody":` + text("hi") + `}`, code: 10017},
		{name: "banned sender", api: api, body: `{"GroupId":"r1","From_Account":"u3","MsgBody":` + text("hi") + `}`, code: 10007},
		{name: "sender not imported", api: api, body: `{"GroupId":"r1","From_Account":"ghost","MsgBody":` + text("hi") + `}`, code: 70107},
		{name: "unknown group", api: api, body: `{"GroupId":"nope","MsgBody":` + text("hi") + `}`, code: 10010},
		{name: "GroupId missing", api: api, body: `{"MsgBody":` + text("hi") + `}`, code: 10004},
		{name: "MsgBody missing", api: api, body: `{"GroupId":"r1"}`, code: 10004},
		{name: "MsgBody empty", api: api, body: `{"GroupId":"r1","MsgBody":[]}`, code: 10004},
		{name: "unknown element", api: api, body: `{"GroupId":"r1","MsgBody":[{"MsgType":"TIMShoeElem","MsgContent":{}}]}`, code: 10004},
		{name: "text without Text", api: api, body: `{"GroupId":"r1","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Data":"x"}}]}`, code: 10004},
		{name: "Random negative", api: api, body: `{"GroupId":"r1","Random":-1,"MsgBody":` + text("hi") + `}`, code: 10004},
		{name: "unknown ForbidCallbackControl", api: api, body: `{"GroupId":"r1","MsgBody":` + text("hi") + `,"ForbidCallbackControl":["Nope"]}`, code: 10004},
		{name: "From_Account a number", api: api, body: `{"GroupId":"r1","From_Account":1,"MsgBody":` + text("hi") + `}`, code: 60015},
	})

	// The After-callbacks of the sent messages (not of the repeat, not of the one that
	// forbade them) and the Before-callback that the one forbidding it did not get.
	cbs := e.callbacksOf(t, cmdAfterSendMsg, 6)
	e.golden(t, "send_group_msg_callbacks", renderCallbacks(cbs[:4]))
	for _, c := range e.rc.All() {
		if c.Command == cmdAfterSendMsg && strings.Contains(string(c.Body), `"MsgSeq":5`) {
			t.Errorf("a message with ForbidAfterSendMsgCallback was called back: %s", c.Body)
		}
	}
	// The connected owner got the text messages (texts of several elements joined) and the
	// custom one, not the image-only one.
	var got []string
	deadline := time.After(10 * time.Second)
	for len(got) < 6 {
		select {
		case n := <-conn.Notifications():
			if strings.HasPrefix(n.Method, "onReceive") {
				got = append(got, n.Method+" "+string(n.Params))
			}
		case <-deadline:
			t.Fatalf("pushes so far: %s", strings.Join(got, "\n"))
		}
	}
	for _, g := range got {
		if strings.Contains(g, `"messageSeq":4,`) {
			t.Errorf("the image-only message was pushed: %s", g)
		}
	}
	e.golden(t, "send_group_msg_pushes", []byte(strings.Join(got[:4], "\n")+"\n"))
}

// followState renders every follow relation of users and the outbox size.
func (e *confEnv) followState(users ...string) func() string {
	return func() string {
		var b strings.Builder
		fmt.Fprintf(&b, "events=%d\n", len(e.allEvents()))
		for _, u := range users {
			es, _ := e.Srv.Store().FollowList(context.Background(), store.FollowListParams{App: testApp, UserID: u, Kind: store.FollowKindFollowing})
			fmt.Fprintf(&b, "%s follows %v\n", u, es)
		}
		return b.String()
	}
}

func TestFollows(t *testing.T) {
	e := startConformance(t, "follows", clockStart, []string{cmdFollowAdd, cmdFollowDelete})
	e.importAccounts("a", "b", "c", "d")
	mustOK(t, e.call("profile/portrait_set", `{"From_Account":"b","ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"Bee"}]}`))
	many := e.importN("m", 21)
	state := e.followState(append([]string{"a", "b", "c", "d"}, many...)...)
	items := func(users ...string) string {
		var parts []string
		for _, u := range users {
			parts = append(parts, `{"To_Account":"`+u+`"}`)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	e.runIM(t, state, []imCase{
		{name: "follow", api: "follow/follow_add", body: `{"From_Account":"a","FollowItem":` + items("b", "c", "ghost", "a") + `}`, golden: "follow_add"},
		{name: "follow again and one more", api: "follow/follow_add", body: `{"From_Account":"a","FollowItem":` + items("b", "d") + `}`},
		{name: "b follows a back", api: "follow/follow_add", body: `{"From_Account":"b","FollowItem":` + items("a") + `}`},
		{name: "20 accounts", api: "follow/follow_add", body: `{"From_Account":"c","FollowItem":` + items(many[:20]...) + `}`},
		{name: "21 accounts", api: "follow/follow_add", body: `{"From_Account":"c","FollowItem":` + items(many...) + `}`, code: 30001},
		{name: "no accounts", api: "follow/follow_add", body: `{"From_Account":"c","FollowItem":[]}`, code: 30001},
		{name: "From_Account missing", api: "follow/follow_add", body: `{"FollowItem":` + items("b") + `}`, code: 30001},
		{name: "From_Account not imported", api: "follow/follow_add", body: `{"From_Account":"ghost","FollowItem":` + items("b") + `}`, code: 30003},
		{name: "From_Account a number", api: "follow/follow_add", body: `{"From_Account":1,"FollowItem":` + items("b") + `}`, code: 60015},

		{name: "check", api: "follow/follow_check", body: `{"From_Account":"a","To_Account":["b","c","ghost","m0"]}`, golden: "follow_check"},
		{name: "check 101", api: "follow/follow_check", body: map[string]any{"From_Account": "a", "To_Account": append(e.importN("k", 100), "b")}, code: 30001},
		{name: "check not imported", api: "follow/follow_check", body: `{"From_Account":"ghost","To_Account":["a"]}`, code: 30003},

		{name: "get following", api: "follow/follow_get", body: `{"From_Account":"a","FollowType":2,"StartCursor":"","WantNum":100}`, golden: "follow_get"},
		{name: "get mutual", api: "follow/follow_get", body: `{"From_Account":"a","FollowType":3}`, check: func(t *testing.T, env envelope) {
			if !strings.Contains(string(env.Raw), `"FollowItem":[{"To_Account":"b"`) || strings.Contains(string(env.Raw), `"c"`) {
				t.Errorf("mutual of a: %s", env.Raw)
			}
		}},
		{name: "FollowType 4", api: "follow/follow_get", body: `{"From_Account":"a","FollowType":4}`, code: 30001},
		{name: "WantNum negative", api: "follow/follow_get", body: `{"From_Account":"a","FollowType":1,"WantNum":-1}`, code: 30001},
		{name: "bad cursor", api: "follow/follow_get", body: `{"From_Account":"a","FollowType":1,"StartCursor":"zz"}`, code: 30001},

		{name: "unfollow", api: "follow/follow_delete", body: `{"From_Account":"a","To_Account":["c","d","ghost","m0"]}`, golden: "follow_delete"},
		{name: "unfollow none followed", api: "follow/follow_delete", body: `{"From_Account":"a","To_Account":["c"]}`},
		{name: "unfollow 21", api: "follow/follow_delete", body: map[string]any{"From_Account": "c", "To_Account": many}, code: 30001},
		{name: "unfollow not imported", api: "follow/follow_delete", body: `{"From_Account":"ghost","To_Account":["a"]}`, code: 30003},
	})

	// Paging follow_get one at a time walks the whole list.
	var walked []string
	cursor := ""
	for range 25 {
		env := mustOK(t, e.call("follow/follow_get", map[string]any{"From_Account": "c", "FollowType": 2, "StartCursor": cursor, "WantNum": 7}))
		var r struct {
			FollowItem []struct{ To_Account string }
			NextCursor string
		}
		json.Unmarshal(env.Raw, &r)
		for _, it := range r.FollowItem {
			walked = append(walked, it.To_Account)
		}
		if cursor = r.NextCursor; cursor == "" {
			break
		}
	}
	if len(walked) != 20 {
		t.Errorf("paging walked %d users, want 20: %v", len(walked), walked)
	}

	// The callbacks: one per follow_add or follow_delete that changed something, ordered
	// per follower, none for the repeat or the unfollow of nobody.
	add := e.callbacksOf(t, cmdFollowAdd, 4)
	del := e.callbacksOf(t, cmdFollowDelete, 1)
	// Callbacks of different followers are delivered in parallel: order them by follower
	// (stable, so each follower's own order, which roomd guarantees, is kept).
	follower := func(r callbackRequest) string {
		var b struct{ From_Account string }
		json.Unmarshal(r.Body, &b)
		return b.From_Account
	}
	sort.SliceStable(add, func(i, j int) bool { return follower(add[i]) < follower(add[j]) })
	e.golden(t, "follow_callbacks", renderCallbacks(append(add[:3:3], del...)))
	for _, ev := range e.allEvents() {
		if want := "follow:"; !strings.HasPrefix(ev.RoomID, want) {
			t.Errorf("event %s ordered by %q, want a follow: key", ev.Command, ev.RoomID)
		}
	}
}

// TestFollowFromClient follows and unfollows through the client API: the connected user
// is the follower, with follow_add's results and callbacks.
func TestFollowFromClient(t *testing.T) {
	e := startConformance(t, "follows", clockStart, []string{cmdFollowAdd, cmdFollowDelete})
	e.importAccounts("b")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, strings.Replace(e.Base, "http", "ws", 1)+"/v1/client",
		client.Options{SDKAppID: testApp, UserID: "a", UserSig: e.userSig("a")})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	call := func(method string, params any) string {
		t.Helper()
		var res json.RawMessage
		if err := conn.Call(ctx, method, params, &res); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		return string(res)
	}
	if got := call("followUser", map[string]any{"userIDList": []string{"b", "ghost"}}); got != `{"resultList":[{"userID":"b","resultCode":0,"resultInfo":""},{"userID":"ghost","resultCode":30003,"resultInfo":"account \"ghost\" is not imported"}]}` {
		t.Errorf("followUser = %s", got)
	}
	if got := call("checkFollowType", map[string]any{"userIDList": []string{"b"}}); !strings.Contains(got, `"followType":1`) {
		t.Errorf("checkFollowType = %s", got)
	}
	if got := call("getMyFollowingList", map[string]any{}); !strings.Contains(got, `"userID":"b"`) || !strings.Contains(got, `"nextCursor":""`) {
		t.Errorf("getMyFollowingList = %s", got)
	}
	if got := call("getMyFollowersList", map[string]any{}); !strings.Contains(got, `"userInfoList":[]`) {
		t.Errorf("getMyFollowersList = %s", got)
	}
	call("unfollowUser", map[string]any{"userIDList": []string{"b"}})
	var cerr *client.Error
	if err := conn.Call(ctx, "followUser", map[string]any{"userIDList": []string{}}, nil); !errors.As(err, &cerr) || cerr.Code != 100002 {
		t.Errorf("followUser of nobody: %v, want 100002 (the client API's invalid-parameter code)", err)
	}
	add := e.callbacksOf(t, cmdFollowAdd, 1)
	del := e.callbacksOf(t, cmdFollowDelete, 1)
	for _, c := range append(add, del...) {
		if c.Query.Get("OptPlatform") == "RESTAPI" || !strings.Contains(string(c.Body), `"From_Account":"a"`) {
			t.Errorf("callback from the client: %s %s", c.Query.Encode(), c.Body)
		}
	}
}
