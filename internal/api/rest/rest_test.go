package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/account"
	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/golden"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlite"
	"github.com/roomd/roomd/internal/tenant"
	"github.com/roomd/roomd/internal/webhook"
	"github.com/roomd/roomd/internal/webhook/dispatcher"
)

const (
	fixedReqID = "Id-0123456789abcdef0123456789abcdef-O-Seq-1"
	testApp    = 1400000000
	testKey    = "rest-test-key"
)

// TestEnvelopesGolden pins the bytes of the Tencent envelope in its four shapes.
func TestEnvelopesGolden(t *testing.T) {
	var b bytes.Buffer
	writeSuccess(&b, fixedReqID, nil, false)
	b.WriteByte('\n')
	writeSuccess(&b, fixedReqID, roomIDRequest{RoomId: "live-100"}, false)
	b.WriteByte('\n')
	writeSuccess(&b, fixedReqID, struct {
		FailAccounts []string `json:"FailAccounts"`
	}{[]string{"bad id"}}, true)
	b.WriteByte('\n')
	writeFailure(&b, CodeRoomNotFound, "room does not exist: r1", fixedReqID)
	b.WriteByte('\n')
	writeFailure(&b, CodeBadJSON, `quote " and <tag> & control `+"\x01", fixedReqID)
	b.WriteByte('\n')
	golden.Check(t, filepath.Join("testdata", "envelopes.golden"), b.Bytes())
}

// newTestHandler returns a handler over a real SQLite store with one app whose admin is
// "admin", and that admin's UserSig.
func newTestHandler(t testing.TB) (*Handler, string) {
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "roomd.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := func() time.Time { return time.Unix(1700000000, 0) }
	st.Tx(context.Background(), func(tx store.Tx) error {
		for _, u := range []string{"admin", "u1", "u2"} {
			if _, err := tx.AccountUpsert(context.Background(), store.Account{App: testApp, UserID: u}); err != nil {
				return err
			}
		}
		return nil
	})
	configs := webhook.NewConfigs()
	outbox := webhook.NewOutbox(configs, now, nil)
	d := dispatcher.New(dispatcher.Options{Store: st, Configs: configs})
	h := New(Options{
		Delivery:  d,
		Apps:      tenant.NewRegistry(&tenant.App{ID: testApp, SecretKey: testKey, Admins: []string{"admin"}}),
		Rooms:     room.NewService(st, outbox, now),
		Accounts:  account.NewService(st, now),
		Callbacks: webhook.NewSettings(st, configs, now),
		Now:       now,
	})
	sig, err := usersig.Sign(testApp, testKey, "admin", 86400, now())
	if err != nil {
		t.Fatal(err)
	}
	return h, sig
}

// FuzzRESTBody sends arbitrary bodies to every API: the reply must always be HTTP 200 with a
// well-formed Tencent envelope, and the handler must never panic.
func FuzzRESTBody(f *testing.F) {
	h, sig := newTestHandler(f)
	var names []string
	for name := range h.routes {
		names = append(names, name)
	}
	sort.Strings(names)
	seeds := []string{
		`{}`, `{"RoomId":"r1"}`, `{"RoomInfo":{"RoomId":"r1","RoomType":"Live","Owner_Account":"u1"}}`,
		`{"RoomId":"r1","NewOwner_Account":"u2"}`, `{"AccountList":[{"UserID":"x"}]}`, `{"CheckItem":[{"UserID":"u1"}]}`,
		`{"DeleteItem":[{"UserID":"zz"}]}`, `{"Url":"http://127.0.0.1:1/cb","CallbackCommandList":["Live.CallbackAfterCreateRoom"]}`,
		`{"Token":"t","IsTokenEnable":true}`, `{"RoomInfo":{"RoomId":"r2","RoomType":"Live","TakeSeatMode":2,"Category":[1,2,3,4]}}`,
		`[`, `null`, `{"RoomId":1e400}`, `{"RoomInfo":{"TakeSeatMode":{}}}`,
		`{"RoomInfo":{"RoomId":"r1","RoomName":"n","Category":[1],"Notice":"x"}}`, `{"Next":"","Count":20}`,
		`{"RoomId":"r1","Metadata":[{"Key":"k","Value":"v"}]}`, `{"RoomId":"r1","Keys":["k"]}`,
		`{"RoomId":"r1","RobotList_Account":["u1"]}`, `{"RoomId":"r1","Admin_Account":["u1"],"OpType":"add"}`,
		`{"RoomId":"r1","MemberList_Account":["u2"],"MuteTime":60}`, `{"RoomId":"r1","MemberList_Account":["u2"],"Duration":60,"Reason":"r"}`,
		`{"RoomId":"r1","Sender_Account":"u1","TextContent":"hi","ExtensionInfo":"{}"}`,
		`{"RoomId":"r1","Sender_Account":"u1","BusinessId":"b","Data":"d"}`, `{"RoomId":"r1","Offset":0,"Limit":100}`,
		`{"State":"dead","Since":1}`, `{"EventId":1}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		name := names[int(which)%len(names)]
		req := httptest.NewRequest(http.MethodPost, "/v4/"+name+"?sdkappid=1400000000&identifier=admin&usersig="+sig+"&random=1&contenttype=json", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: HTTP %d", name, rec.Code)
		}
		var env struct {
			ActionStatus string
			ErrorCode    *int
			ErrorInfo    *string
			RequestId    string
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("%s: reply is not JSON: %s", name, rec.Body.Bytes())
		}
		if env.ErrorCode == nil || env.ErrorInfo == nil || !strings.HasPrefix(env.RequestId, "Id-") {
			t.Fatalf("%s: malformed envelope %s", name, rec.Body.Bytes())
		}
		if (env.ActionStatus == "OK") != (*env.ErrorCode == 0) {
			t.Fatalf("%s: ActionStatus and ErrorCode disagree: %s", name, rec.Body.Bytes())
		}
		if *env.ErrorCode == CodeLiveInternal || *env.ErrorCode == CodeAccountInternal {
			t.Fatalf("%s: internal error for body %q: %s", name, body, rec.Body.Bytes())
		}
	})
}

func TestRequestIDFormat(t *testing.T) {
	h, _ := newTestHandler(t)
	id := h.newRequestID()
	if len(id) != len("Id-")+32+len("-O-Seq-1") || !strings.HasPrefix(id, "Id-") || !strings.HasSuffix(id, "-O-Seq-1") {
		t.Errorf("request id %q", id)
	}
}
