package clientapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomd/roomd/internal/api/clientapi"
)

// FuzzMethodParams sends every method of the client API random params over a real
// connection to a real server (SQLite in t.TempDir()): whatever the bytes, the answer is a
// response to the request carrying a result or an error with a Tencent code (or -32602 for
// params that are not an object), never the internal error 100001 — which is what a panic
// or an unexpected error in a method becomes — and the connection stays open.
//
// The fuzzing user owns and is in room "fz" (unless an input dissolved it or left it), so
// inputs reach the domain past requireEntered; "fz2" exists too, owned by another user.
func FuzzMethodParams(f *testing.F) {
	names := clientapi.MethodNames()
	seeds := []string{
		`{}`, `{"roomId":"fz"}`, `{"roomId":""}`, `{"roomId":1}`, `{"roomId":null}`, `{"roomId":"fz2"}`,
		`{"roomId":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`,
		`{"roomId":"fz","userId":"fuzzer","role":"roomOwner"}`, `{"roomId":"fz","userId":"other","role":"administrator"}`,
		`{"roomId":"fz","userId":"","role":"generalUser"}`, `{"roomId":"fz","userId":"nobody","role":"x"}`,
		`{"roomId":"fz","metadata":{"k":"v"}}`, `{"roomId":"fz","metadata":{"":"v"}}`, `{"roomId":"fz","metadata":{"k":1}}`,
		`{"roomId":"fz","metadata":[]}`, `{"roomId":"fz","keys":["k",""]}`, `{"roomId":"fz","keys":"k"}`,
		`{"roomId":"fz","text":"hi"}`, `{"roomId":"fz","text":""}`, `{"roomId":"fz","businessId":"b","data":"d"}`,
		`{"roomId":"fz","userId":"other","isDisable":true,"duration":-1}`, `{"roomId":"fz","userId":"other","isDisable":true,"duration":99999999999}`,
		`{"roomId":"fz","isDisable":"yes"}`, `{"roomId":"fz","nextSequence":"1.2.x"}`, `{"roomId":"fz","nextSequence":"0"}`,
		`{"roomId":"fz","roomName":"` + "\u00e9\u00e9" + `","category":[1,2,3,4]}`, `{"roomId":"fz","activityStatus":1e40}`,
		`{"roomId":"fz","takeSeatMode":"Whatever","maxSeatCount":-3,"roomType":"Conference"}`, `{"roomId":"new","isSeatEnabled":true}`,
		`{"roomId":"fz","coverUrl":"\u0000"}`, `[1,2]`, `"s"`, `null`, `not json`,
	}
	for i, m := range names {
		for j, s := range seeds {
			if (i+j)%3 == 0 || m == "changeUserRole" || m == "createRoom" {
				f.Add(uint8(i), []byte(s))
			}
		}
	}
	ts := startServer(f)
	owner := ts.dial(f, "fuzzer", "Web")
	other := ts.dial(f, "other", "Android")
	id := 0
	call := func(t testing.TB, c *websocket.Conn, method string, params []byte) (code int, ok bool) {
		t.Helper()
		id++
		p := params
		if !json.Valid(p) {
			p, _ = json.Marshal(string(params)) // a string: params that are not an object
		}
		frame := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, method, p)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
			t.Fatalf("write %s: %v", frame, err)
		}
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("%s: the connection ended: %v", frame, err)
			}
			var resp struct {
				ID     json.RawMessage `json:"id"`
				Result json.RawMessage `json:"result"`
				Error  *struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(data, &resp); err != nil {
				t.Fatalf("%s: answered with a frame that is not JSON: %s", frame, data)
			}
			if resp.ID == nil {
				continue // a push
			}
			if string(resp.ID) != fmt.Sprint(id) {
				t.Fatalf("%s: answered with id %s: %s", frame, resp.ID, data)
			}
			if resp.Error == nil {
				if resp.Result == nil {
					t.Fatalf("%s: neither result nor error: %s", frame, data)
				}
				return 0, true
			}
			return resp.Error.Code, false
		}
	}
	setup := func(t testing.TB) {
		call(t, owner, "createRoom", []byte(`{"roomId":"fz"}`))
		call(t, owner, "enterRoom", []byte(`{"roomId":"fz"}`))
		call(t, other, "createRoom", []byte(`{"roomId":"fz2"}`))
		call(t, other, "enterRoom", []byte(`{"roomId":"fz"}`))
	}
	setup(f)
	f.Fuzz(func(t *testing.T, method uint8, params []byte) {
		if len(params) > 16<<10 {
			return
		}
		name := names[int(method)%len(names)]
		code, _ := call(t, owner, name, params)
		switch {
		case code == 100001:
			t.Fatalf("%s %s: internal error (a panic or an unexpected error in the method; see the log)", name, params)
		case code < 0 && code != -32602:
			t.Fatalf("%s %s: transport error %d for a well-formed request", name, params, code)
		}
		// Put the stage back for the next input: the room, both users in it.
		setup(t)
	})
}
