package clientws

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestDecodeFrame(t *testing.T) {
	tests := []struct {
		name       string
		frame      string
		wantCode   int    // 0: decodes
		wantID     string // the id to answer with ("" for nil)
		wantMethod string
		wantParams string
	}{
		{"request", `{"jsonrpc":"2.0","id":1,"method":"enterRoom","params":{"roomId":"r1"}}`, 0, "1", "enterRoom", `{"roomId":"r1"}`},
		{"string id", `{"jsonrpc":"2.0","id":"a-1","method":"m"}`, 0, `"a-1"`, "m", `{}`},
		{"null id", `{"jsonrpc":"2.0","id":null,"method":"m","params":null}`, 0, `null`, "m", `{}`},
		{"id compacted", `{"jsonrpc":"2.0","id": 12 ,"method":"m"}`, 0, `12`, "m", `{}`},
		{"notification", `{"jsonrpc":"2.0","method":"m","params":{}}`, 0, "", "m", `{}`},
		{"extra members ignored", `{"jsonrpc":"2.0","id":2,"method":"m","x":[1]}`, 0, "2", "m", `{}`},
		{"not json", `{`, CodeParseError, "", "", ""},
		{"empty", ``, CodeParseError, "", "", ""},
		{"trailing garbage", `{"jsonrpc":"2.0","id":1,"method":"m"} x`, CodeParseError, "", "", ""},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"m"}]`, CodeInvalidRequest, "", "", ""},
		{"null frame", `null`, CodeInvalidRequest, "", "", ""},
		{"number frame", `42`, CodeInvalidRequest, "", "", ""},
		{"no version", `{"id":1,"method":"m"}`, CodeInvalidRequest, "", "", ""},
		{"wrong version", `{"jsonrpc":"1.0","id":1,"method":"m"}`, CodeInvalidRequest, "", "", ""},
		{"version case", `{"JSONRPC":"2.0","id":1,"method":"m"}`, CodeInvalidRequest, "", "", ""},
		{"no method", `{"jsonrpc":"2.0","id":1}`, CodeInvalidRequest, "", "", ""},
		{"empty method", `{"jsonrpc":"2.0","id":1,"method":""}`, CodeInvalidRequest, "", "", ""},
		{"method not string", `{"jsonrpc":"2.0","id":1,"method":7}`, CodeInvalidRequest, "", "", ""},
		{"object id", `{"jsonrpc":"2.0","id":{},"method":"m"}`, CodeInvalidRequest, "", "", ""},
		{"bool id", `{"jsonrpc":"2.0","id":true,"method":"m"}`, CodeInvalidRequest, "", "", ""},
		{"array params", `{"jsonrpc":"2.0","id":3,"method":"m","params":["r1"]}`, CodeInvalidParams, "3", "", ""},
		{"string params", `{"jsonrpc":"2.0","id":3,"method":"m","params":"r1"}`, CodeInvalidParams, "3", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, id, e := DecodeFrame([]byte(tt.frame))
			if string(id) != tt.wantID {
				t.Errorf("id = %q, want %q", id, tt.wantID)
			}
			if tt.wantCode != 0 {
				if e == nil || e.Code != tt.wantCode {
					t.Fatalf("error = %v, want code %d", e, tt.wantCode)
				}
				return
			}
			if e != nil {
				t.Fatalf("unexpected error %d %s", e.Code, e.Message)
			}
			if req.Method != tt.wantMethod || string(req.Params) != tt.wantParams {
				t.Errorf("got method %q params %s, want %q %s", req.Method, req.Params, tt.wantMethod, tt.wantParams)
			}
			if req.IsNotification() != (tt.wantID == "") {
				t.Errorf("IsNotification = %v", req.IsNotification())
			}
		})
	}
}

func TestEncode(t *testing.T) {
	b, err := EncodeResult(json.RawMessage(`7`), map[string]string{"html": "<a&b>"})
	if err != nil || string(b) != `{"jsonrpc":"2.0","id":7,"result":{"html":"<a&b>"}}` {
		t.Errorf("EncodeResult = %s, %v", b, err)
	}
	b, _ = EncodeResult(nil, nil)
	if string(b) != `{"jsonrpc":"2.0","id":null,"result":{}}` {
		t.Errorf("EncodeResult(nil, nil) = %s", b)
	}
	if _, err := EncodeResult(nil, func() {}); err == nil {
		t.Error("EncodeResult of a func: no error")
	}
	b = EncodeError(nil, &Error{Code: CodeParseError, Message: "parse error"})
	if string(b) != `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}` {
		t.Errorf("EncodeError = %s", b)
	}
	b, _ = EncodeNotification("onRoomDismissed", nil)
	if string(b) != `{"jsonrpc":"2.0","method":"onRoomDismissed","params":{}}` {
		t.Errorf("EncodeNotification = %s", b)
	}
}

// FuzzDecodeFrame checks that DecodeFrame never panics, that what it accepts is a
// well-formed request, and that every answer it asks for encodes to valid JSON.
func FuzzDecodeFrame(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"enterRoom","params":{"roomId":"r1"}}`,
		`{"jsonrpc":"2.0","id":"x","method":"changeUserRole","params":{"roomId":"r1","userId":"bob","role":"roomOwner"}}`,
		`{"jsonrpc":"2.0","method":"exitRoom","params":{"roomId":"r1"}}`,
		`{"jsonrpc":"2.0","id":null,"method":"m","params":null}`,
		`{"jsonrpc":"2.0","id":1e3,"method":"m","params":[1]}`,
		`{"jsonrpc":"2.0","id":{"a":1},"method":"m"}`,
		`[{"jsonrpc":"2.0","id":1,"method":"m"}]`,
		`{"jsonrpc":"2.0","id": -0.5 ,"method":"\u0000","params":{ }}`,
		`{"jsonrpc":"2.0","jsonrpc":"1.0","id":1,"method":"m"}`,
		"{\"jsonrpc\":\"2.0\",\"id\":\"\xff\",\"method\":\"m\"}",
		`{"jsonrpc":"2.0","id":"<&>\u00e9","method":"m"}`,
		`{`, ``, `null`, `"s"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		req, id, e := DecodeFrame(frame)
		if id != nil && !json.Valid(id) {
			t.Fatalf("id %q is not valid JSON", id)
		}
		if e != nil {
			if e.Code >= 0 {
				t.Fatalf("transport error with code %d", e.Code)
			}
			if out := EncodeError(id, e); !json.Valid(out) {
				t.Fatalf("error response %q is not valid JSON", out)
			}
			return
		}
		if req.Method == "" {
			t.Fatal("accepted a request without a method")
		}
		if !json.Valid(req.Params) || bytes.TrimSpace(req.Params)[0] != '{' {
			t.Fatalf("params %q is not an object", req.Params)
		}
		if !bytes.Equal(id, req.ID) {
			t.Fatalf("answer id %q differs from request id %q", id, req.ID)
		}
		out, err := EncodeResult(id, req.Params)
		if err != nil || !json.Valid(out) {
			t.Fatalf("result %q is not valid JSON (%v)", out, err)
		}
		// What was accepted decodes the same once re-encoded.
		m := map[string]any{"jsonrpc": "2.0", "method": req.Method, "params": req.Params}
		if req.ID != nil {
			m["id"] = req.ID
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			t.Fatal(err)
		}
		again := buf.Bytes()
		req2, _, e2 := DecodeFrame(again)
		if e2 != nil || req2.Method != req.Method || !bytes.Equal(req2.ID, req.ID) {
			t.Fatalf("re-encoded request %s decodes differently: %+v %v", again, req2, e2)
		}
	})
}

// FuzzDecodeFrameScan checks DecodeFrame's one-pass scan of the envelope against the decoding
// with encoding/json it replaced (decodeMembers): the same request, id and error for every
// frame.
func FuzzDecodeFrameScan(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"enterRoom","params":{"roomId":"r1"}}`,
		` { "jsonrpc" : "2.0" , "id" : "a\"b" , "method" : "m\u00e9" , "params" : { "a" : [ 1 , "}" ] } } `,
		`{"jsonrpc":"2.0","id":1,"method":"m","method":"n","params":null}`,
		`{"jsonrpc":"2\u002e0","id":-1.5e3,"method":"m","x":{"id":2}}`,
		`{"\u006a\u0073onrpc":"2.0","method":"m"}`, `{"jsonrpc":"2.0","method":null}`, `{"jsonrpc":"2.0","method":"\t"}`,
		`{"jsonrpc":"2.0","id":true,"method":"m"}`, `{"jsonrpc":"2.0","id":[],"method":"m"}`, `[]`, `null`, `"x"`, `{}`,
		`{"jsonrpc":"2.0","id":1,"method":"m","params":"s"}`, "{\"jsonrpc\":\"2.0\",\"method\":\"m\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		req, id, e := DecodeFrame(frame)
		if !json.Valid(frame) {
			if e == nil || e.Code != CodeParseError {
				t.Fatalf("invalid JSON: error %v", e)
			}
			return
		}
		wreq, wid, we := decodeMembers(frame)
		if (e == nil) != (we == nil) || (e != nil && *e != *we) {
			t.Fatalf("%s: error %v, want %v", frame, e, we)
		}
		if !bytes.Equal(id, wid) || (id == nil) != (wid == nil) {
			t.Fatalf("%s: id %q, want %q", frame, id, wid)
		}
		if req.Method != wreq.Method || !bytes.Equal(req.Params, wreq.Params) || !bytes.Equal(req.ID, wreq.ID) || (req.ID == nil) != (wreq.ID == nil) {
			t.Fatalf("%s: request %q %q %s, want %q %q %s", frame, req.ID, req.Method, req.Params, wreq.ID, wreq.Method, wreq.Params)
		}
	})
}
