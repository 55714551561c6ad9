package app_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// Conformance of set_room_metadata, get_room_metadata and del_room_metadata.

type kv struct{ Key, Value string }

func metaBody(room string, pairs ...string) map[string]any {
	var md []kv
	for i := 0; i < len(pairs); i += 2 {
		md = append(md, kv{pairs[i], pairs[i+1]})
	}
	return map[string]any{"RoomId": room, "Metadata": md}
}

// metadata returns a room's metadata as the API answers it.
func (e *confEnv) metadata(t *testing.T, room string, keys ...string) []kv {
	t.Helper()
	body := map[string]any{"RoomId": room}
	if keys != nil {
		body["Keys"] = keys
	}
	env := mustOK(t, e.call(svc+"get_room_metadata", body))
	var r struct{ Metadata []kv }
	if err := json.Unmarshal(env.Response, &r); err != nil {
		t.Fatal(err)
	}
	return r.Metadata
}

func TestSetRoomMetadata(t *testing.T) {
	e := startWithRoomCallbacks(t, "metadata")
	e.create(map[string]any{"RoomId": "m1"})
	e.create(map[string]any{"RoomId": "m2"})
	stored := func(n int) func(t *testing.T, env envelope) {
		return func(t *testing.T, _ envelope) {
			if got := len(e.events(cmdSetMeta)); got != n {
				t.Errorf("%d set-metadata callbacks stored, want %d", got, n)
			}
		}
	}
	// Six more keys bring m1 from 4 to the limit of 10.
	var six []string
	for i := range 6 {
		six = append(six, fmt.Sprintf("k%d", i), "v")
	}
	// m2 filled to exactly 16384 bytes: 8 two-byte keys, seven 2048-byte values and one of
	// 16384 - 16 - 7*2048 = 2032 bytes.
	var full []string
	for i := range 8 {
		v := rep("v", 2048)
		if i == 7 {
			v = rep("v", 2032)
		}
		full = append(full, fmt.Sprintf("f%d", i), v)
	}
	var eleven []string
	for i := range 11 {
		eleven = append(eleven, fmt.Sprintf("x%d", i), "v")
	}
	watch := []string{"m1", "m2"}
	e.runCases(t, "set_room_metadata", watch, []confCase{
		{name: "two keys", body: metaBody("m1", "key1", "value1", "key2", "value2"), golden: "set_room_metadata_reply", check: stored(1)},
		{name: "key of 50 bytes, value of 2048 bytes", body: metaBody("m1", rep("k", 50), rep("v", 2048)), check: stored(2)},
		{name: "update in place", body: metaBody("m1", "key1", "changed", "key3", ""), check: func(t *testing.T, env envelope) {
			got := e.metadata(t, "m1")
			if len(got) != 4 || got[0] != (kv{"key1", "changed"}) || got[3] != (kv{"key3", ""}) {
				t.Errorf("metadata %v", got)
			}
			stored(3)(t, env)
		}},
		{name: "key of 51 bytes", body: metaBody("m1", rep("k", 51), "v"), code: 100002},
		{name: "empty key", body: metaBody("m1", "", "v"), code: 100002},
		{name: "key twice in one request", body: metaBody("m1", "dup", "a", "dup", "b"), code: 100002},
		{name: "value of 2049 bytes", body: metaBody("m1", "big", rep("v", 2049)), code: 100501},
		{name: "value of 2049 bytes next to a good pair", body: metaBody("m1", "ok", "v", "big", rep("v", 2049)), code: 100501},
		{name: "11 keys in one request", body: metaBody("m2", eleven...), code: 100500},
		{name: "up to 10 keys", body: metaBody("m1", six...), check: func(t *testing.T, env envelope) {
			if n := len(e.metadata(t, "m1")); n != 10 {
				t.Errorf("%d keys, want 10", n)
			}
		}},
		{name: "an 11th key", body: metaBody("m1", "eleventh", "v"), code: 100500},
		{name: "an 11th key with an update", body: metaBody("m1", "key1", "x", "eleventh", "v"), code: 100500},
		{name: "updating a key at 10 keys", body: metaBody("m1", "k0", "updated")},
		{name: "16384 bytes in total", body: metaBody("m2", full...)},
		{name: "16385 bytes in total", body: metaBody("m2", "f7", rep("v", 2033)), code: 100502},
		{name: "a new key past 16384 bytes", body: metaBody("m2", "z", ""), code: 100502},
		{name: "shrinking under the total", body: metaBody("m2", "f7", "small")},
		{name: "Metadata missing", body: `{"RoomId":"m1"}`, code: 100002},
		{name: "Metadata empty", body: `{"RoomId":"m1","Metadata":[]}`, code: 100002},
		{name: "Metadata not an array", body: `{"RoomId":"m1","Metadata":{"Key":"a","Value":"b"}}`, code: 100002},
		{name: "Value not a string", body: `{"RoomId":"m1","Metadata":[{"Key":"a","Value":1}]}`, code: 100002},
		{name: "RoomId missing", body: `{"Metadata":[{"Key":"a","Value":"b"}]}`, code: 100002},
		{name: "RoomId 49 bytes", body: metaBody(rep("r", 49), "a", "b"), code: 100002},
		{name: "room does not exist", body: metaBody("nope", "a", "b"), code: 100004},
		{name: "body not JSON", body: `{"RoomId":"m1","Metadata":[`, code: 60003},
	})
	// The callbacks of one room arrive in commit order; the first is Tencent's sample
	// (https://www.tencentcloud.com/document/product/647/68222).
	cbs := e.callbacksOf(t, cmdSetMeta, 1)
	e.golden(t, "set_room_metadata_callback", renderCallbacks(cbs[:1]))

	// Metadata goes with its room.
	mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"m1"}`))
	e.create(map[string]any{"RoomId": "m1"})
	if got := e.metadata(t, "m1"); len(got) != 0 {
		t.Errorf("a re-created room has metadata: %v", got)
	}
}

func TestGetRoomMetadata(t *testing.T) {
	e := startWithRoomCallbacks(t, "metadata")
	e.create(map[string]any{"RoomId": "g1"})
	e.create(map[string]any{"RoomId": "empty"})
	mustOK(t, e.call(svc+"set_room_metadata", metaBody("g1", "b", "2", "a", "1", "c", `{"json":true}`)))
	keys := func(want ...string) func(t *testing.T, env envelope) {
		return func(t *testing.T, env envelope) {
			var r struct{ Metadata []kv }
			json.Unmarshal(env.Response, &r)
			var got []string
			for _, m := range r.Metadata {
				got = append(got, m.Key)
			}
			if !slices.Equal(got, want) {
				t.Errorf("keys %v, want %v (%s)", got, want, env.Response)
			}
		}
	}
	e.runCases(t, "get_room_metadata", []string{"g1"}, []confCase{
		{name: "all keys in the order set", body: `{"RoomId":"g1"}`, golden: "get_room_metadata_reply"},
		{name: "Keys empty: all", body: `{"RoomId":"g1","Keys":[]}`, check: keys("b", "a", "c")},
		{name: "Keys subset", body: `{"RoomId":"g1","Keys":["c","b"]}`, check: keys("b", "c")},
		{name: "unknown key", body: `{"RoomId":"g1","Keys":["zz"]}`, check: func(t *testing.T, env envelope) {
			if string(env.Response) != `{"Metadata":[]}` {
				t.Errorf("Response %s", env.Response)
			}
		}},
		{name: "room without metadata", body: `{"RoomId":"empty"}`, check: keys()},
		{name: "Keys not an array", body: `{"RoomId":"g1","Keys":"a"}`, code: 100002},
		{name: "RoomId missing", body: `{}`, code: 100002},
		{name: "RoomId 49 bytes", body: `{"RoomId":"` + rep("r", 49) + `"}`, code: 100002},
		{name: "room does not exist", body: `{"RoomId":"nope"}`, code: 100004},
	})
}

func TestDelRoomMetadata(t *testing.T) {
	e := startWithRoomCallbacks(t, "metadata")
	e.create(map[string]any{"RoomId": "d1"})
	mustOK(t, e.call(svc+"set_room_metadata", metaBody("d1", "a", "1", "b", "2", "c", "3")))
	stored := func(n int) func(t *testing.T, env envelope) {
		return func(t *testing.T, _ envelope) {
			if got := len(e.events(cmdDelMeta)); got != n {
				t.Errorf("%d del-metadata callbacks stored, want %d", got, n)
			}
		}
	}
	e.runCases(t, "del_room_metadata", []string{"d1"}, []confCase{
		{name: "existing and unknown keys", body: `{"RoomId":"d1","Keys":["c","zz","a","c"]}`, golden: "del_room_metadata_reply",
			check: func(t *testing.T, env envelope) {
				if got := e.metadata(t, "d1"); !slices.Equal(got, []kv{{"b", "2"}}) {
					t.Errorf("metadata left %v", got)
				}
				stored(1)(t, env)
			}},
		{name: "only unknown keys: success, no callback", body: `{"RoomId":"d1","Keys":["zz"]}`, check: stored(1)},
		{name: "Keys empty", body: `{"RoomId":"d1","Keys":[]}`, code: 100002},
		{name: "Keys missing", body: `{"RoomId":"d1"}`, code: 100002},
		{name: "empty key", body: `{"RoomId":"d1","Keys":["b",""]}`, code: 100002},
		{name: "Keys not an array", body: `{"RoomId":"d1","Keys":"b"}`, code: 100002},
		{name: "RoomId 49 bytes", body: `{"RoomId":"` + rep("r", 49) + `","Keys":["b"]}`, code: 100002},
		{name: "room does not exist", body: `{"RoomId":"nope","Keys":["b"]}`, code: 100004},
		{name: "last key", body: `{"RoomId":"d1","Keys":["b"]}`, check: stored(2)},
	})
	cbs := e.callbacksOf(t, cmdDelMeta, 2)
	e.golden(t, "del_room_metadata_callbacks", renderCallbacks(cbs))
}
