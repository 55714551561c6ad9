package faulttest

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/testkit"
)

// TestBadInput sends malformed and oversized requests to a real roomd process: each must
// get a clear Tencent error code (or, for a request line or headers beyond the transport's
// limit, an HTTP 431) without crashing or stalling the process, which must answer a valid
// call afterwards.
func TestBadInput(t *testing.T) { runBadInput(t, 300) }

// TestBadInputLong is the full version: many more random bodies.
func TestBadInputLong(t *testing.T) {
	if testing.Short() {
		t.Skip("long fault test; runs without -short")
	}
	runBadInput(t, 20000)
}

func runBadInput(t *testing.T, randomBodies int) {
	rcv := newReceiver(t)
	rd := newRoomd(t, t.TempDir(), procConfig{Apps: []appSpec{{ID: appA, Key: keyA, CallbackURL: rcv.URL()}}})
	rd.mustStart()
	base := rd.URL()
	c := newClient(t, appA, keyA)
	c.createRoom(t, base, "bad-room")
	c.importAccounts(t, base, []string{"bad_owner", "bad_owner2"})

	sig := c.sig
	auth := func(app, id, sig string) string {
		return "sdkappid=" + app + "&identifier=" + id + "&usersig=" + url.QueryEscape(sig) + "&random=7&contenttype=json"
	}
	good := auth(fmt.Sprint(appA), adminID, sig)
	otherSig, err := usersig.Sign(appA, keyA, "bad_owner", 86400, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wrongKeySig, err := usersig.Sign(appA, keyB, adminID, 86400, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	expiredSig, err := usersig.Sign(appA, keyA, adminID, 1, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	const change = "/v4/live_engine_http_srv/change_room_owner?"
	big := func(n int) []byte {
		return []byte(`{"RoomId":"bad-room","NewOwner_Account":"bad_owner","Pad":"` + strings.Repeat("x", n) + `"}`)
	}
	cases := []struct {
		name   string
		method string
		target string // path and query
		body   []byte
		code   int // the Tencent error code, or -HTTP status for a transport-level refusal
	}{
		{"garbage body", "POST", change + good, []byte("hello, world"), 60003},
		{"binary body", "POST", change + good, []byte{0, 1, 2, 0xff, 0xfe, '{'}, 60003},
		{"truncated JSON", "POST", change + good, []byte(`{"RoomId":"bad-ro`), 60003},
		{"JSON null", "POST", change + good, []byte(`null`), 60003},
		{"JSON array", "POST", change + good, []byte(`[{"RoomId":"bad-room"}]`), 60003},
		{"empty body", "POST", change + good, nil, 60003},
		{"trailing garbage", "POST", change + good, []byte(`{"RoomId":"bad-room","NewOwner_Account":"bad_owner"}}}`), 60003},
		{"deeply nested", "POST", change + good, []byte(`{"RoomId":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`), 60003},
		{"RoomId a number", "POST", change + good, []byte(`{"RoomId":123,"NewOwner_Account":"bad_owner"}`), 100002},
		{"RoomId an object", "POST", change + good, []byte(`{"RoomId":{"a":1},"NewOwner_Account":"bad_owner"}`), 100002},
		{"huge number", "POST", change + good, []byte(`{"RoomId":1e400,"NewOwner_Account":"bad_owner"}`), 100002},
		{"owner a number", "POST", change + good, []byte(`{"RoomId":"bad-room","NewOwner_Account":5}`), 60015},
		{"owner not imported", "POST", change + good, []byte(`{"RoomId":"bad-room","NewOwner_Account":"nobody_here"}`), 70107},
		{"unknown room", "POST", change + good, []byte(`{"RoomId":"no-such-room","NewOwner_Account":"bad_owner"}`), 100004},
		{"RoomId too long", "POST", change + good, []byte(`{"RoomId":"` + strings.Repeat("r", 10000) + `","NewOwner_Account":"bad_owner"}`), 100002},
		{"create_room wrong types", "POST", "/v4/live_engine_http_srv/create_room?" + good, []byte(`{"RoomInfo":{"RoomId":"x","RoomType":"Live","MaxSeatCount":"nine"}}`), 100002},
		{"import wrong types", "POST", "/v4/im_open_login_svc/multiaccount_import?" + good, []byte(`{"AccountList":[{"UserID":7}]}`), 60015},
		{"2 MiB body", "POST", change + good, big(2 << 20), 60002},
		{"body just over 1 MiB", "POST", change + good, big(1 << 20), 60002},
		{"GET", "GET", change + good, nil, 60002},
		{"PUT", "PUT", change + good, []byte(`{}`), 60002},
		{"DELETE", "DELETE", change + good, nil, 60002},
		{"unknown command", "POST", "/v4/live_engine_http_srv/no_such_command?" + good, []byte(`{}`), 60009},
		{"unknown service", "POST", "/v4/nope/nope?" + good, []byte(`{}`), 60009},
		{"no command", "POST", "/v4/?" + good, []byte(`{}`), 60009},
		{"very long command", "POST", "/v4/" + strings.Repeat("a/", 5000) + "?" + good, []byte(`{}`), 60009},
		{"no sdkappid", "POST", change + "identifier=" + adminID + "&usersig=" + url.QueryEscape(sig), []byte(`{}`), 60012},
		{"sdkappid not a number", "POST", change + auth("abc", adminID, sig), []byte(`{}`), 60006},
		{"sdkappid overflow", "POST", change + auth("99999999999999999999999", adminID, sig), []byte(`{}`), 60006},
		{"unknown sdkappid", "POST", change + auth("1400999999", adminID, sig), []byte(`{}`), 70020},
		{"contenttype xml", "POST", change + strings.Replace(good, "contenttype=json", "contenttype=xml", 1), []byte(`{}`), 60002},
		{"no identifier", "POST", change + auth(fmt.Sprint(appA), "", sig), []byte(`{}`), 60004},
		{"empty UserSig", "POST", change + auth(fmt.Sprint(appA), adminID, ""), []byte(`{}`), 70002},
		{"truncated UserSig", "POST", change + auth(fmt.Sprint(appA), adminID, sig[:len(sig)/2]), []byte(`{}`), 70003},
		// Cut one character of data: a trailing '_' is only Base64 padding, which the
		// verifier accepts either way, so it is stripped first.
		{"UserSig cut by one", "POST", change + auth(fmt.Sprint(appA), adminID, strings.TrimRight(sig, "_")[:len(strings.TrimRight(sig, "_"))-1]), []byte(`{}`), 70003},
		{"garbage UserSig", "POST", change + auth(fmt.Sprint(appA), adminID, "!!!not-a-sig***"), []byte(`{}`), 70003},
		{"huge UserSig", "POST", change + auth(fmt.Sprint(appA), adminID, strings.Repeat("A", 30000)), []byte(`{}`), 70003},
		{"UserSig of another user", "POST", change + auth(fmt.Sprint(appA), adminID, otherSig), []byte(`{}`), 70013},
		{"UserSig with the wrong key", "POST", change + auth(fmt.Sprint(appA), adminID, wrongKeySig), []byte(`{}`), 70009},
		{"expired UserSig", "POST", change + auth(fmt.Sprint(appA), adminID, expiredSig), []byte(`{}`), 70001},
		{"not an admin", "POST", change + auth(fmt.Sprint(appA), "bad_owner", otherSig), []byte(`{}`), 60010},
		{"long junk query (32 KiB)", "POST", change + good + "&junk=" + strings.Repeat("j", 32<<10), []byte(`{"RoomId":"no-such-room","NewOwner_Account":"bad_owner"}`), 100004},
		{"huge query (1 MiB)", "POST", change + good + "&junk=" + strings.Repeat("j", 1<<20), []byte(`{}`), -http.StatusRequestHeaderFieldsTooLarge},
	}
	hc := &http.Client{Timeout: 20 * time.Second}
	for _, tc := range cases {
		req, err := http.NewRequest(tc.method, base+tc.target, bytes.NewReader(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, info, err := send(hc, req)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got != tc.code {
			t.Errorf("%s: got %d (%s), want %d", tc.name, got, info, tc.code)
		}
	}

	// A body sent chunked, without Content-Length, is bounded too.
	req, _ := http.NewRequest("POST", base+change+good, io.MultiReader(bytes.NewReader(big(2<<20))))
	req.ContentLength = -1
	if got, info, err := send(hc, req); err != nil || got != 60002 {
		t.Errorf("chunked 2 MiB body: got %d (%s) %v, want 60002", got, info, err)
	}

	// Transport-level abuse: a header block beyond the limit, a body shorter than its
	// Content-Length, and connections that send half a request and wait.
	req, _ = http.NewRequest("POST", base+change+good, strings.NewReader(`{}`))
	req.Header.Set("X-Junk", strings.Repeat("h", 1<<20))
	if got, info, err := send(hc, req); err != nil || got != -http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("1 MiB header: got %d (%s) %v, want HTTP 431", got, info, err)
	}
	addr := strings.TrimPrefix(base, "http://")
	if conn, err := net.Dial("tcp", addr); err == nil {
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"RoomId\":", change+good)
		conn.(*net.TCPConn).CloseWrite()
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		io.Copy(io.Discard, conn) // whatever it answers, it must not wait forever
		conn.Close()
	}
	var stalls []net.Conn
	for range 50 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		stalls = append(stalls, conn)
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n", change+good)
	}
	t.Cleanup(func() {
		for _, c := range stalls {
			c.Close()
		}
	})

	// Random bodies to every API from several goroutines at once, while the stalled
	// connections hang around: every reply must be a Tencent envelope.
	apis := []string{
		"im_open_login_svc/account_import", "im_open_login_svc/multiaccount_import", "im_open_login_svc/account_check",
		"im_open_login_svc/account_delete", "live_engine_http_srv/create_room", "live_engine_http_srv/get_room_info",
		"live_engine_http_srv/destroy_room", "live_engine_http_srv/change_room_owner", "live_config/get_callback",
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	workers := 4
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for i := w; i < randomBodies; i += workers {
				api := apis[rng.IntN(len(apis))]
				body := randomBody(rng)
				req, _ := http.NewRequest("POST", base+"/v4/"+api+"?"+good, bytes.NewReader(body))
				if _, _, err := send(hc, req); err != nil {
					mu.Lock()
					if len(bad) < 10 {
						bad = append(bad, fmt.Sprintf("%s %q: %v", api, body, err))
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("random bodies without a proper reply:\n  %s", strings.Join(bad, "\n  "))
	}

	// Still up, still answering valid calls promptly, and never panicked.
	if !rd.alive() {
		t.Fatal("roomd died")
	}
	start := time.Now()
	c.mustCall(t, base, "live_engine_http_srv/change_room_owner", map[string]string{"RoomId": "bad-room", "NewOwner_Account": "bad_owner2"})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a valid call took %s after the bad input", d)
	}
	if !waitFor(30*time.Second, 20*time.Millisecond, func() bool {
		for _, a := range rcv.delivered() {
			if a.Room == "bad-room" && a.Current == "bad_owner2" {
				return true
			}
		}
		return false
	}) {
		t.Error("the valid change's callback did not arrive")
	}
	if strings.Contains(rd.logs.String(), "panic") {
		t.Error("roomd logged a panic")
	}
	t.Logf("%d fixed cases and %d random bodies answered; a valid call then took %s", len(cases), randomBodies, time.Since(start).Round(time.Millisecond))
}

// send makes one request and returns the Tencent error code of the reply (0 for OK), or
// minus the HTTP status when it is not 200, with the ErrorInfo or body. The error is a
// transport failure or a 200 reply that is not a Tencent envelope.
func send(hc *http.Client, req *http.Request) (int, string, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return -resp.StatusCode, string(b), nil
	}
	env, err := testkit.DecodeEnvelope(resp.StatusCode, b)
	if err != nil {
		return 0, "", err
	}
	return env.ErrorCode, env.ErrorInfo, nil
}

// randomBody returns a random request body: JSON-ish fragments, valid JSON with wrong
// types, or raw bytes.
func randomBody(rng *rand.Rand) []byte {
	frags := []string{`{`, `}`, `[`, `]`, `"RoomId"`, `"NewOwner_Account"`, `"RoomInfo"`, `"AccountList"`, `"UserID"`,
		`"CheckItem"`, `"DeleteItem"`, `:`, `,`, `"x"`, `1`, `-1`, `1e999`, `null`, `true`, `"\u0000"`, `"\ud800"`,
		`"bad-room"`, `"bad_owner"`, `"Live"`, `"RoomType"`, `"TakeSeatMode"`, `2`, `{}`, `[]`, `"` + strings.Repeat("z", 300) + `"`}
	switch rng.IntN(3) {
	case 0:
		b := make([]byte, rng.IntN(200))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	default:
		var sb strings.Builder
		if rng.IntN(2) == 0 {
			sb.WriteString("{")
		}
		for range rng.IntN(30) {
			sb.WriteString(frags[rng.IntN(len(frags))])
		}
		return []byte(sb.String())
	}
}
