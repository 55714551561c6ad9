package rest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/account"
	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/golden"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlite"
	"github.com/roomd/roomd/internal/tenant"
	"github.com/roomd/roomd/internal/testkit"
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
	writeFailure(&b, errcode.RoomNotFound, "room does not exist: r1", fixedReqID)
	b.WriteByte('\n')
	writeFailure(&b, errcode.BadJSON, `quote " and <tag> & control `+"\x01", fixedReqID)
	b.WriteByte('\n')
	golden.Check(t, filepath.Join("testdata", "envelopes.golden"), b.Bytes())
}

// newTestHandler returns a handler over a real SQLite store with one app whose admin is
// "admin" (accounts admin, u1 and u2 imported), the store, and a testkit client of that
// admin calling the handler served on 127.0.0.1.
func newTestHandler(t testing.TB) (*Handler, *testkit.Client, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "roomd.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := func() time.Time { return time.Unix(1700000000, 0) }
	if err := st.Tx(context.Background(), func(tx store.Tx) error {
		for _, u := range []string{"admin", "u1", "u2"} {
			if _, err := tx.AccountUpsert(context.Background(), store.Account{App: testApp, UserID: u}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	configs := webhook.NewConfigs()
	outbox := webhook.NewOutbox(configs, now, nil)
	d := dispatcher.New(dispatcher.Options{Store: st, Configs: configs})
	rooms := room.NewService(st, outbox, now)
	// The handler is wired as app.Server wires it, with Before-callbacks sent through a
	// client that reaches loopback addresses only (a fuzzed callback URL stays on this machine).
	before := webhook.NewBeforeCaller(loopbackClient(), st.Instance(), now)
	h := New(Options{
		Delivery:  d,
		Apps:      tenant.NewRegistry(&tenant.App{ID: testApp, SecretKey: testKey, Admins: []string{"admin"}}),
		Rooms:     rooms,
		Messages:  room.NewMessageService(room.MessageOptions{Store: st, Rooms: rooms, Configs: configs, Before: before, Now: now}),
		Gifts:     room.NewGiftService(room.GiftOptions{Store: st, Rooms: rooms, Configs: configs, Before: before, Now: now}),
		Accounts:  account.NewService(st, now),
		Callbacks: webhook.NewSettings(st, configs, now),
		Now:       now,
	})
	return h, serve(t, h), st
}

// loopbackClient returns an HTTP client that dials loopback IP literals only: a host name
// is refused before any lookup, so no packet leaves this machine whatever URL a test sets.
func loopbackClient() *http.Client {
	dial := (&net.Dialer{Timeout: time.Second}).DialContext
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("test client dials loopback IPs only, not %q", host)
			}
			return dial(ctx, network, addr)
		},
	}}
}

// serve serves h on 127.0.0.1 until t ends and returns a testkit client of the test app's
// admin calling it. The UserSig is signed at the real time, after the handler's fixed clock:
// a UserSig from the future passes, only expiry is checked.
func serve(t testing.TB, h http.Handler) *testkit.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return testkit.NewClient(t, srv.URL, testApp, testKey, "admin")
}

// FuzzRESTBody sends arbitrary bodies to every API: the reply must always be HTTP 200 with a
// well-formed Tencent envelope, and the handler must never panic.
func FuzzRESTBody(f *testing.F) {
	h, c, _ := newTestHandler(f)
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
		// Post fails unless the reply is an HTTP 200, well-formed Tencent envelope.
		env, err := c.Post(context.Background(), c.URL(name), body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.HasPrefix(env.RequestId, "Id-") {
			t.Fatalf("%s: RequestId %q", name, env.RequestId)
		}
		if env.ErrorCode == errcode.LiveInternal || env.ErrorCode == errcode.AccountInternal {
			t.Fatalf("%s: internal error for body %q: %s", name, body, env.Raw)
		}
	})
}

func TestRequestIDFormat(t *testing.T) {
	h, _, _ := newTestHandler(t)
	id := h.newRequestID()
	if len(id) != len("Id-")+32+len("-O-Seq-1") || !strings.HasPrefix(id, "Id-") || !strings.HasSuffix(id, "-O-Seq-1") {
		t.Errorf("request id %q", id)
	}
}

// TestDeliveryLogGolden pins the replies of roomd_delivery/list_events and get_event.
func TestDeliveryLogGolden(t *testing.T) {
	_, c, st := newTestHandler(t)
	ctx := context.Background()
	at := time.Unix(1700000000, 0)
	err := st.Tx(ctx, func(tx store.Tx) error {
		e := store.Event{App: testApp, RoomID: "r1", Command: "Live.CallbackAfterChangeOwner",
			Body: []byte(`{"CallbackCommand":"Live.CallbackAfterChangeOwner","RoomId":"r1"}`), ClientIP: "127.0.0.1",
			Platform: "RESTAPI", CreatedAt: at, NextAttemptAt: at}
		if err := tx.EventInsert(ctx, &e); err != nil {
			return err
		}
		if err := tx.EventRecordAttempt(ctx, store.Attempt{EventID: e.ID, N: 1, StartedAt: at, Duration: 3 * time.Millisecond,
			URL: "http://127.0.0.1:9000/cb", StatusCode: 500, Response: "down", Error: "HTTP status 500"},
			store.EventUpdate{State: store.EventRetrying, NextAttemptAt: at.Add(time.Second), LastError: "HTTP status 500"}); err != nil {
			return err
		}
		return tx.EventRecordAttempt(ctx, store.Attempt{EventID: e.ID, N: 2, StartedAt: at.Add(time.Second), Duration: time.Millisecond,
			URL: "http://127.0.0.1:9000/cb", StatusCode: 200, Response: `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`},
			store.EventUpdate{State: store.EventDelivered, DeliveredAt: at.Add(time.Second + time.Millisecond)})
	})
	if err != nil {
		t.Fatal(err)
	}
	reqID := regexp.MustCompile(`"RequestId":"Id-[0-9a-f]{32}-O-Seq-[0-9]+"`)
	webhookID := regexp.MustCompile(`"WebhookId":"msg_[0-9a-f]+_`)
	var out bytes.Buffer
	for _, call := range []struct{ api, body string }{
		{"roomd_delivery/list_events", `{"RoomId":"r1"}`},
		{"roomd_delivery/get_event", `{"EventId":1}`},
		{"roomd_delivery/resend_event", `{"EventId":1}`},
		{"roomd_delivery/list_events", `{"State":"bogus"}`},
	} {
		b := reqID.ReplaceAll(c.Do(t, call.api, call.body).Raw, []byte(`"RequestId":"Id-00000000000000000000000000000000-O-Seq-0"`))
		b = webhookID.ReplaceAll(b, []byte(`"WebhookId":"msg_INSTANCE_`))
		out.WriteString(call.api + " " + call.body + "\n")
		out.Write(b)
		out.WriteString("\n")
	}
	golden.Check(t, filepath.Join("testdata", "delivery_log.golden"), out.Bytes())
}

// TestPathsOutsideV4 pins that a path outside /v4/{service}/{command} is answered with
// Tencent's envelope and 60009 (HTTP 200), not with net/http's 404 or a redirect, while
// roomd's own endpoints still reach their handler.
func TestPathsOutsideV4(t *testing.T) {
	h, _, _ := newTestHandler(t)
	own := http.NewServeMux()
	own.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("metrics")) })
	own.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	c := serve(t, Root(h, own, "/metrics", "/healthz"))
	query := "?sdkappid=1400000000&identifier=admin&usersig=" + url.QueryEscape(c.Sig) + "&random=1&contenttype=json"
	for _, path := range []string{"/v4", "/v4/", "/v4/a//b", "/v4/a/b/c", "/v5/x", "/", "//v4/im_open_login_svc/account_check",
		"/v4/im_open_login_svc/account_check/", "/v4/./im_open_login_svc/account_check", "/metrics/"} {
		env, err := c.Post(context.Background(), c.Base+path+query, `{}`)
		if err != nil || env.ErrorCode != errcode.UnknownCommand {
			t.Errorf("%s: %v %s, want HTTP 200 with ErrorCode %d", path, err, env.Raw, errcode.UnknownCommand)
		}
	}
	for path, want := range map[string]string{"/metrics": "metrics", "/healthz": "ok"} {
		resp, err := c.HTTP.Get(c.Base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != want {
			t.Errorf("%s: HTTP %d %q, want %q", path, resp.StatusCode, b, want)
		}
	}
}

// TestSentinelCodes pins the code every domain sentinel answers, in both families: the
// sentinels carry their codes, and invalid parameters take the family's code.
func TestSentinelCodes(t *testing.T) {
	ctx := context.Background()
	h, _, _ := newTestHandler(t)
	_, redriveErr := h.o.Delivery.Redrive(ctx, store.EventQuery{App: testApp, State: store.EventPending}, 10)
	resendErr := h.o.Delivery.Resend(ctx, testApp, 99)
	for _, c := range []struct {
		err  error
		fam  errcode.Family
		code int
		info string
	}{
		{usersig.ErrEmpty, errcode.Live, errcode.SigEmpty, "usersig: empty"},
		{usersig.ErrMalformed, errcode.Live, errcode.SigMalformed, ""},
		{usersig.ErrAppIDMismatch, errcode.Live, errcode.SigSDKAppID, ""},
		{usersig.ErrIdentifierMismatch, errcode.Live, errcode.SigIdentifier, ""},
		{usersig.ErrExpired, errcode.Account, errcode.SigExpired, ""},
		{usersig.ErrSignatureMismatch, errcode.Live, errcode.SigMismatch, ""},
		{usersig.ErrUserBufMismatch, errcode.Live, errcode.SigMismatch, ""},
		{fmt.Errorf("%w: r1", room.ErrRoomNotFound), errcode.Live, errcode.RoomNotFound, "room does not exist: r1"},
		{room.ErrRoomExists, errcode.Live, errcode.RoomExists, ""},
		{room.ErrRoomExistsSameOwner, errcode.Live, errcode.RoomExistsSameUser, ""},
		{room.ErrAccountNotImported, errcode.Live, errcode.AccountNotImported, ""},
		{room.ErrMetadataTooManyKeys, errcode.Live, errcode.MetadataTooMany, ""},
		{room.ErrMetadataValueTooLarge, errcode.Live, errcode.MetadataValueLarge, ""},
		{room.ErrMetadataTooLarge, errcode.Live, errcode.MetadataTooLarge, ""},
		{room.ErrRoomQuotaExceeded, errcode.Live, errcode.RoomQuota, ""},
		{room.ErrBanned, errcode.Live, errcode.NoPermission, ""},
		{room.ErrSenderMuted, errcode.Live, errcode.SenderMuted, ""},
		{room.ErrMessagesDisabled, errcode.Live, errcode.SenderMuted, ""},
		{room.ErrMessageRejected, errcode.Live, errcode.MsgRejected, ""},
		{account.ErrProfileTooLong, errcode.Account, errcode.ProfileTooLong, ""},
		{webhook.ErrConfigExists, errcode.Live, errcode.CallbackExists, ""},
		{webhook.ErrConfigNotFound, errcode.Live, errcode.CallbackNotFound, ""},
		{account.ValidateUserID(""), errcode.Account, errcode.AccountInvalid, "invalid parameter: UserID is empty"},
		{room.ValidateRoomID(""), errcode.Live, errcode.LiveInvalid, "invalid parameter: RoomId is required"},
		{webhook.ValidateURL("ftp://x"), errcode.Live, errcode.LiveInvalid, "invalid parameter: Url must start with http:// or https://"},
		{fmt.Errorf("%w: 7", webhook.ErrEventNotFound), errcode.Live, errcode.LiveInvalid, "event does not exist: 7"},
		{webhook.ErrEventUndelivered, errcode.Live, errcode.LiveInvalid, ""},
		{webhook.ErrEventNotResendable, errcode.Live, errcode.LiveInvalid, ""},
		{resendErr, errcode.Live, errcode.LiveInvalid, "event does not exist: 99"},
		{redriveErr, errcode.Live, errcode.LiveInvalid, `invalid parameter: State must be dead or delivered, not "pending"`},
		{errBadCursor, errcode.Live, errcode.LiveInvalid, "Next is not a cursor returned by get_room_list"},
	} {
		code, info, internal := errcode.Classify(c.err, c.fam)
		if code != c.code || internal || (c.info != "" && info != c.info) {
			t.Errorf("%v: code %d %q (internal %v), want %d %q", c.err, code, info, internal, c.code, c.info)
		}
	}
}
