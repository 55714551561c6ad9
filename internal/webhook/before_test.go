package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/golden"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/testkit"
)

func TestParseBeforeReply(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		body   string
		code   int
		info   string
		valid  bool
	}{
		{"allow", 200, `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`, 0, "", true},
		{"reject", 200, `{"ActionStatus":"FAIL","ErrorInfo":"no","ErrorCode":1}`, 1, "no", true},
		{"FAIL with 0 still allows", 200, `{"ActionStatus":"FAIL","ErrorCode":0}`, 0, "", true},
		{"pass-through", 200, ` {"ErrorCode":10150,"ErrorInfo":"lvl"} `, 10150, "lvl", true},
		{"negative", 200, `{"ErrorCode":-1}`, -1, "", true},
		{"ErrorInfo not a string", 200, `{"ErrorCode":1,"ErrorInfo":5}`, 1, "", true},
		{"exponent integer", 200, `{"ErrorCode":1e1}`, 0, "", false},
		{"fraction", 200, `{"ErrorCode":0.5}`, 0, "", false},
		{"string code", 200, `{"ErrorCode":"0"}`, 0, "", false},
		{"no code", 200, `{"ActionStatus":"OK"}`, 0, "", false},
		{"too big", 200, `{"ErrorCode":4294967296}`, 0, "", false},
		{"array", 200, `[{"ErrorCode":0}]`, 0, "", false},
		{"null", 200, `null`, 0, "", false},
		{"html", 200, `<html></html>`, 0, "", false},
		{"empty", 200, ``, 0, "", false},
		{"status 500", 500, `{"ErrorCode":0}`, 0, "", false},
		{"status 204", 204, ``, 0, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseBeforeReply(c.status, []byte(c.body))
			if !c.valid {
				if !errors.Is(err, ErrNoValidReply) {
					t.Fatalf("err = %v, want ErrNoValidReply", err)
				}
				return
			}
			if err != nil || r.ErrorCode != c.code || r.ErrorInfo != c.info {
				t.Fatalf("got %+v, %v; want code %d info %q", r, err, c.code, c.info)
			}
		})
	}
}

func FuzzParseBeforeReply(f *testing.F) {
	for _, s := range []string{`{"ErrorCode":0}`, `{"ErrorCode":2,"MsgBody":[]}`, `{"ErrorCode":1.0}`, `{}`, `[]`, `"x"`, `{"ErrorCode":-2147483648}`} {
		f.Add(200, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		r, err := ParseBeforeReply(status, body)
		if err != nil {
			if !errors.Is(err, ErrNoValidReply) {
				t.Fatalf("error %v does not wrap ErrNoValidReply", err)
			}
			return
		}
		if status != 200 || r.Fields == nil {
			t.Fatalf("valid reply with status %d / fields %v", status, r.Fields)
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) != nil {
			t.Fatalf("valid reply from a body that is not a JSON object: %q", body)
		}
	})
}

// TestBeforeCallerRecords pins what one call sends and records, for a valid reply, a
// timeout and a refused connection.
func TestBeforeCallerRecords(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	rcv := testkit.NewReceiver(t)
	rcv.Respond(func(w http.ResponseWriter, r *http.Request, _ testkit.Callback) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		w.Write([]byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":2}`))
	})

	now := time.Unix(1703589922, 0)
	b := NewBeforeCaller(&http.Client{}, "abc123", func() time.Time { return now })
	d := Delivery{App: 1400000000, Command: BeforeSendMsg, Body: []byte(`{"CallbackCommand":"Group.CallbackBeforeSendMsg"}`), ClientIP: "10.0.0.1", Platform: PlatformRESTAPI}

	cfg := &Config{App: 1400000000, URL: rcv.URL() + "/ok", Timeout: time.Second, SigningSecret: "secret"}
	res := b.Call(context.Background(), cfg, "room1", d)
	if res.Err != nil || res.Reply.ErrorCode != 2 {
		t.Fatalf("result %+v", res)
	}
	got := rcv.All()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	gotHeader, gotQuery := got[0].Header, got[0].Query
	if id := gotHeader.Get("webhook-id"); !strings.HasPrefix(id, "msg_abc123_b") || len(id) != len("msg_abc123_b")+16 {
		t.Errorf("webhook-id %q", id)
	}
	if gotHeader.Get("webhook-signature") == "" {
		t.Error("no webhook-signature with a signing secret")
	}
	if gotQuery.Get("CallbackCommand") != "Group.CallbackBeforeSendMsg" || gotQuery.Get("ClientIP") != "10.0.0.1" {
		t.Errorf("query %v", gotQuery)
	}
	wantEv := store.Event{App: 1400000000, RoomID: "room1", Command: string(BeforeSendMsg), Body: d.Body, ClientIP: "10.0.0.1", Platform: PlatformRESTAPI,
		CreatedAt: now, NextAttemptAt: now, State: store.EventDelivered, DeliveredAt: now}
	if res.Event.State != wantEv.State || res.Event.RoomID != "room1" || string(res.Event.Body) != string(d.Body) || !res.Event.DeliveredAt.Equal(now) {
		t.Errorf("event %+v", res.Event)
	}
	if res.Attempt.N != 1 || res.Attempt.StatusCode != 200 || res.Attempt.URL != cfg.URL || res.Attempt.Error != "" ||
		res.Attempt.Response != `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":2}` {
		t.Errorf("attempt %+v", res.Attempt)
	}

	slow := &Config{App: 1400000000, URL: rcv.URL() + "/slow", Timeout: 50 * time.Millisecond}
	res = b.Call(context.Background(), slow, "room1", d)
	if !errors.Is(res.Err, ErrNoValidReply) || res.Event.State != store.EventDead || !strings.Contains(res.Event.LastError, "timeout after 50ms") {
		t.Errorf("slow: %v, event %+v", res.Err, res.Event)
	}

	res.Invalidate("x")
	if res.Event.State != store.EventDead || !res.Event.DeliveredAt.IsZero() || !strings.HasSuffix(res.Attempt.Error, ": x") {
		t.Errorf("after Invalidate: %+v %+v", res.Event, res.Attempt)
	}

	rcv.Down()
	res = b.Call(context.Background(), &Config{App: 1, URL: rcv.URL()}, "room1", d)
	if !errors.Is(res.Err, ErrNoValidReply) || res.Attempt.StatusCode != 0 || res.Event.State != store.EventDead {
		t.Errorf("refused: %+v", res)
	}
}

func TestBodiesPeopleGolden(t *testing.T) {
	now := time.Unix(1703589922, 780_000_000)
	ms := now.UnixMilli()
	cfg := &Config{App: 1400000000, URL: "https://www.example.com/callback"}
	body := json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"red packet"}}]`)
	for _, c := range []struct {
		name string
		cmd  Command
		body any
	}{
		{"modify_admin.golden", AfterModifyAdmin, ModifyAdmin{RoomId: "room_id", EventTime: ms,
			Operator_Account: "admin", Admin_Account: []string{"user1", "user2"}, OpType: AdminAdd}},
		{"member_kicked.golden", AfterMemberStateChanged, MemberStateChanged{RoomId: "room_id",
			EventType: MemberOffline, EventCause: CauseKicked, MemberList: []MemberAccount{{"jared"}, {"tommy"}}, EventTime: ms}},
		{"before_send_msg.golden", BeforeSendMsg, BeforeSendMsgBody{GroupId: "room_id", Type: GroupTypeLive,
			From_Account: "jared", Operator_Account: "admin", Random: 123456, MsgId: "144115233406643804-1727580296-4026038328",
			MsgBody: body, CloudCustomData: "your cloud custom data", EventTime: ms}},
		{"after_send_msg.golden", AfterSendMsg, AfterSendMsgBody{GroupId: "room_id", Type: GroupTypeLive,
			From_Account: "jared", Operator_Account: "admin", Random: 123456, MsgSeq: 123, MsgTime: 1703589922,
			MsgId: "144115233406643804-1727580296-4026038328", MsgBody: body, CloudCustomData: "your cloud custom data", EventTime: ms}},
	} {
		b, err := Render(c.cmd, c.body)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", c.name), dumpRequest(t, cfg, Delivery{ID: "msg_x_1", App: cfg.App, Command: c.cmd, Body: b, ClientIP: "127.0.0.1", Platform: PlatformRESTAPI}, now))
	}
}
