package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of send_text_msg and send_custom_msg and their After-callbacks, and of
// Group.CallbackBeforeSendMsg: an App backend that vetoes, modifies, drops, times out and
// answers garbage, decided by the text it is asked about.

func TestSendTextMsg(t *testing.T) {
	e := startWithMemberCallbacks(t, "messages")
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

func TestSendCustomMsg(t *testing.T) {
	e := startWithMemberCallbacks(t, "messages")
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

// beforeBackend answers Group.CallbackBeforeSendMsg by the message text and After-callbacks
// with OK. "slow" blocks until the test ends.
func beforeBackend(t *testing.T, e *confEnv) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	e.rc.Respond(func(w http.ResponseWriter, _ *http.Request, r callbackRequest) {
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

func TestBeforeSendMsgFailOpen(t *testing.T) {
	e := startWithMemberCallbacks(t, "messages", withBeforeSendMsg(300*time.Millisecond, "allow"))
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

func TestBeforeSendMsgFailClosed(t *testing.T) {
	e := startWithMemberCallbacks(t, "messages", withBeforeSendMsg(300*time.Millisecond, "reject"))
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

func TestBeforeSendMsgSwitchedOff(t *testing.T) {
	// The URL is set but the Before command is not switched on: no call, the message goes.
	e := startWithMemberCallbacks(t, "messages")
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
