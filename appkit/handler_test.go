package appkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/appkit"
)

const (
	testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	testToken  = "callback-token"
	testApp    = 1400000000
)

var testNow = time.Unix(1700000000, 0)

// signed returns a callback request for body signed as roomd signs it, at t.
func signed(t *testing.T, cmd, id, body string, at time.Time) *http.Request {
	t.Helper()
	ts := at.Unix()
	q := "/callback?SdkAppid=" + strconv.Itoa(testApp) + "&CallbackCommand=" + cmd + "&contenttype=json&ClientIP=10.0.0.1&OptPlatform=RESTAPI&Sign=" +
		appkit.Sign(testToken, ts) + "&RequestTime=" + strconv.FormatInt(ts, 10)
	r := httptest.NewRequest(http.MethodPost, q, strings.NewReader(body))
	sig, err := appkit.SignStandard(testSecret, id, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("webhook-id", id)
	r.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	r.Header.Set("webhook-signature", sig)
	return r
}

func verifier() *appkit.Verifier {
	return &appkit.Verifier{SDKAppID: testApp, Tokens: []string{testToken}, SigningSecrets: []string{testSecret},
		Now: func() time.Time { return testNow }}
}

const changeOwnerBody = `{"CallbackCommand":"Live.CallbackAfterChangeOwner","RoomId":"r1","EventTime":1700000000123,"Operator_Account":"admin","CurrentOwner_Account":"bob","OriginalOwner_Account":12345}`

type answer struct {
	status int
	reply  map[string]any
	header http.Header
}

func serve(t *testing.T, h http.Handler, r *http.Request) answer {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var reply map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil {
		t.Fatalf("reply %q is not JSON: %v", w.Body.String(), err)
	}
	return answer{w.Code, reply, w.Header()}
}

func TestHandlerAfterCallback(t *testing.T) {
	var got []*appkit.ChangeOwner
	var meta *appkit.Request
	fail := error(nil)
	h := &appkit.Handler{
		Verifier: verifier(),
		Dedup:    &appkit.MemoryDeduper{Now: func() time.Time { return testNow }},
		OnChangeOwner: func(ctx context.Context, ev *appkit.ChangeOwner) error {
			if fail != nil {
				return fail
			}
			got = append(got, ev)
			meta = appkit.RequestFrom(ctx)
			return nil
		},
	}
	a := serve(t, h, signed(t, appkit.CmdAfterChangeOwner, "msg_1", changeOwnerBody, testNow))
	if a.status != 200 || a.reply["ActionStatus"] != "OK" || a.reply["ErrorCode"] != 0.0 {
		t.Fatalf("answer %+v", a)
	}
	want := appkit.ChangeOwner{CallbackCommand: appkit.CmdAfterChangeOwner, RoomID: "r1", EventTime: 1700000000123,
		Operator: "admin", CurrentOwner: "bob", OriginalOwner: "12345"}
	if len(got) != 1 || *got[0] != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if meta.ClientIP != "10.0.0.1" || meta.OptPlatform != "RESTAPI" || meta.WebhookID != "msg_1" || meta.SDKAppID != testApp || meta.ContentType != "json" {
		t.Errorf("request %+v", meta)
	}

	// Replayed: the same webhook-id is answered OK and not handled again.
	a = serve(t, h, signed(t, appkit.CmdAfterChangeOwner, "msg_1", changeOwnerBody, testNow))
	if a.status != 200 || a.reply["ActionStatus"] != "OK" || len(got) != 1 {
		t.Fatalf("duplicate: %+v, handled %d times", a, len(got))
	}

	// A failing handler gets a 500 (so roomd retries) and its id is not remembered.
	fail = errors.New("database down")
	a = serve(t, h, signed(t, appkit.CmdAfterChangeOwner, "msg_2", changeOwnerBody, testNow))
	if a.status != 500 || a.reply["ActionStatus"] != "FAIL" || strings.Contains(a.reply["ErrorInfo"].(string), "database") {
		t.Fatalf("failure: %+v", a)
	}
	fail = nil
	serve(t, h, signed(t, appkit.CmdAfterChangeOwner, "msg_2", changeOwnerBody, testNow))
	if len(got) != 2 {
		t.Fatalf("the retry of a failed event was not handled")
	}

	// A permanent error is answered 200 FAIL and remembered.
	fail = appkit.Permanent(errors.New("unknown room r1"))
	a = serve(t, h, signed(t, appkit.CmdAfterChangeOwner, "msg_3", changeOwnerBody, testNow))
	if a.status != 200 || a.reply["ActionStatus"] != "FAIL" || a.reply["ErrorInfo"] != "unknown room r1" {
		t.Fatalf("permanent: %+v", a)
	}
	fail = nil
	serve(t, h, signed(t, appkit.CmdAfterChangeOwner, "msg_3", changeOwnerBody, testNow))
	if len(got) != 2 {
		t.Fatalf("a permanently failed event was handled again")
	}
}

func TestHandlerRejects(t *testing.T) {
	handled := 0
	h := &appkit.Handler{Verifier: verifier(), OnChangeOwner: func(context.Context, *appkit.ChangeOwner) error { handled++; return nil }}
	forged := signed(t, appkit.CmdAfterChangeOwner, "msg_1", changeOwnerBody, testNow)
	forged.Body = httpBody(strings.Replace(changeOwnerBody, `"bob"`, `"mallory"`, 1))
	badSign := signed(t, appkit.CmdAfterChangeOwner, "msg_1", changeOwnerBody, testNow)
	badSign.URL.RawQuery = strings.Replace(badSign.URL.RawQuery, "Sign=", "Sign=0", 1)
	otherApp := signed(t, appkit.CmdAfterChangeOwner, "msg_1", changeOwnerBody, testNow)
	otherApp.URL.RawQuery = strings.Replace(otherApp.URL.RawQuery, "SdkAppid=1400000000", "SdkAppid=1400000001", 1)
	for name, c := range map[string]struct {
		r      *http.Request
		status int
	}{
		"forged body":      {forged, 401},
		"bad Sign":         {badSign, 401},
		"other app":        {otherApp, 401},
		"stale":            {signed(t, appkit.CmdAfterChangeOwner, "msg_1", changeOwnerBody, testNow.Add(-6*time.Minute)), 401},
		"not JSON":         {signed(t, appkit.CmdAfterChangeOwner, "msg_1", `hello`, testNow), 400},
		"command mismatch": {signed(t, appkit.CmdAfterCreateRoom, "msg_1", changeOwnerBody, testNow), 400},
		"wrong field type": {signed(t, appkit.CmdAfterChangeOwner, "msg_1", `{"RoomId":7}`, testNow), 400},
		"GET":              {httptest.NewRequest(http.MethodGet, "/callback", nil), 400},
	} {
		a := serve(t, h, c.r)
		if a.status != c.status || a.reply["ActionStatus"] != "FAIL" {
			t.Errorf("%s: %+v, want %d FAIL", name, a, c.status)
		}
	}
	if handled != 0 {
		t.Fatalf("a refused request was handled")
	}
}

func httpBody(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

func TestHandlerBeforeSendMsg(t *testing.T) {
	body := `{"CallbackCommand":"Group.CallbackBeforeSendMsg","GroupId":"r1","Type":"Live","From_Account":"u1","Operator_Account":"u1","Random":7,"MsgId":"m1","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello"}}],"CloudCustomData":"","EventTime":1}`
	for _, c := range []struct {
		name  string
		reply appkit.Reply
		want  string
	}{
		{"allow", appkit.Allow(), `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`},
		{"reject", appkit.Reject("no spam"), `{"ActionStatus":"FAIL","ErrorInfo":"no spam","ErrorCode":1}`},
		{"pass-through", appkit.RejectWithCode(10150, "level too low"), `{"ActionStatus":"FAIL","ErrorInfo":"level too low","ErrorCode":10150}`},
		{"drop", appkit.Drop(), `{"ActionStatus":"FAIL","ErrorInfo":"","ErrorCode":2}`},
		{"modify", appkit.Modify([]appkit.MsgElement{appkit.TextElem("h*llo"), appkit.CustomElem("LV1", "CustomElement.MemberLevel")}).WithCloudCustomData("vip"),
			`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"h*llo"}},{"MsgType":"TIMCustomElem","MsgContent":{"Data":"LV1","Desc":"CustomElement.MemberLevel"}}],"CloudCustomData":"vip"}`},
	} {
		var seen *appkit.BeforeSendMsg
		h := &appkit.Handler{Verifier: verifier(), Dedup: &appkit.MemoryDeduper{},
			OnBeforeSendMsg: func(_ context.Context, m *appkit.BeforeSendMsg) (appkit.Reply, error) { seen = m; return c.reply, nil }}
		for range 2 { // Before-callbacks are not de-duplicated
			w := httptest.NewRecorder()
			h.ServeHTTP(w, signed(t, appkit.CmdBeforeSendMsg, "msg_b1", body, testNow))
			if w.Code != 200 || w.Body.String() != c.want {
				t.Errorf("%s: %d %s, want %s", c.name, w.Code, w.Body.String(), c.want)
			}
		}
		if seen == nil || seen.MsgBody[0].Text() != "hello" || seen.Random != 7 || seen.From != "u1" {
			t.Errorf("%s: event %+v", c.name, seen)
		}
	}
	h := &appkit.Handler{Verifier: verifier(), OnBeforeSendMsg: func(context.Context, *appkit.BeforeSendMsg) (appkit.Reply, error) {
		return appkit.Reply{}, errors.New("moderation service down")
	}}
	if a := serve(t, h, signed(t, appkit.CmdBeforeSendMsg, "msg_b2", body, testNow)); a.status != 500 {
		t.Errorf("failing Before handler: %+v, want 500", a)
	}
}

func TestHandlerOther(t *testing.T) {
	var cmds []string
	h := &appkit.Handler{Verifier: verifier(), OnOther: func(ctx context.Context, r *appkit.Request) error {
		cmds = append(cmds, r.Command)
		return nil
	}}
	serve(t, h, signed(t, "Live.CallbackAfterSomethingNew", "msg_x", `{"CallbackCommand":"Live.CallbackAfterSomethingNew","X":1}`, testNow))
	serve(t, h, signed(t, appkit.CmdAfterChangeOwner, "msg_y", changeOwnerBody, testNow))
	if strings.Join(cmds, ",") != "Live.CallbackAfterSomethingNew,"+appkit.CmdAfterChangeOwner {
		t.Fatalf("OnOther got %v", cmds)
	}
}

func TestMemoryDeduper(t *testing.T) {
	ctx := context.Background()
	now := testNow
	d := &appkit.MemoryDeduper{TTL: time.Hour, Now: func() time.Time { return now }}
	if ok, err := d.Claim(ctx, "a"); !ok || err != nil {
		t.Fatalf("first claim: %v %v", ok, err)
	}
	if _, err := d.Claim(ctx, "a"); !errors.Is(err, appkit.ErrInFlight) {
		t.Fatalf("claim while in flight: %v", err)
	}
	d.Finish(ctx, "a", false)
	if ok, _ := d.Claim(ctx, "a"); !ok {
		t.Fatal("claim after a failed handling was refused")
	}
	d.Finish(ctx, "a", true)
	if ok, err := d.Claim(ctx, "a"); ok || err != nil {
		t.Fatalf("duplicate claim: %v %v", ok, err)
	}
	now = now.Add(time.Hour)
	if ok, _ := d.Claim(ctx, "a"); !ok {
		t.Fatal("an expired id is still remembered")
	}
	if d.Len() != 0 {
		t.Fatalf("Len = %d after expiry", d.Len())
	}
}

func TestHandlerInFlightDuplicate(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	h := &appkit.Handler{Verifier: verifier(), Dedup: &appkit.MemoryDeduper{},
		OnChangeOwner: func(context.Context, *appkit.ChangeOwner) error { close(started); <-release; return nil }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), signed(t, appkit.CmdAfterChangeOwner, "msg_1", changeOwnerBody, testNow))
	}()
	<-started
	a := serve(t, h, signed(t, appkit.CmdAfterChangeOwner, "msg_1", changeOwnerBody, testNow))
	close(release)
	<-done
	if a.status != 503 || a.header.Get("Retry-After") != "1" {
		t.Fatalf("duplicate while in flight: %+v", a)
	}
}

func TestUserIDAcceptsNumbers(t *testing.T) {
	ev, err := appkit.ParseBody("", []byte(`{"CallbackCommand":"Live.CallbackAfterModifyAdmin","Admin_Account":["a",42],"Operator_Account":7,"opType":"add"}`))
	if err != nil {
		t.Fatal(err)
	}
	m := ev.(*appkit.ModifyAdmin)
	if m.Operator != "7" || len(m.Admins) != 2 || m.Admins[1] != "42" || m.OpType != appkit.AdminAdd {
		t.Fatalf("%+v", m)
	}
	if _, err := appkit.ParseBody("", []byte(`{"CallbackCommand":"Live.CallbackAfterModifyAdmin","Operator_Account":true}`)); !errors.Is(err, appkit.ErrMalformed) {
		t.Fatalf("bool account: %v", err)
	}
}
