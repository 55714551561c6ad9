package rest

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// FuzzRESTQuery checks parseRESTQuery against url.ParseQuery and url.Values.Get, which it
// replaces on every REST call, on arbitrary raw queries.
func FuzzRESTQuery(f *testing.F) {
	for _, s := range []string{
		"sdkappid=1400000000&identifier=admin&usersig=eJw*-_abc&random=99&contenttype=json",
		"sdkappid=1&sdkappid=2", "sdkappid=&sdkappid=2", "sdkappid=%zz&sdkappid=3", "sdk%61ppid=4",
		"identifier=a+b%20c", "identifier=a;b&identifier=c", ";&usersig=x", "usersig=a=b=c", "contenttype",
		"&&&identifier=x&&", "%=1&identifier=%", "identifier=%e4%b8%ad", "contenttype=JSON&contenttype=xml",
		strings.Repeat("a=1&", 20) + "sdkappid=7", strings.Repeat("&", 15) + "identifier=z", strings.Repeat("&", 16) + "identifier=z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		want := restQuery{v.Get("sdkappid"), v.Get("identifier"), v.Get("usersig"), v.Get("contenttype")}
		if got := parseRESTQuery(raw); got != want {
			t.Fatalf("parseRESTQuery(%q) = %+v, url.ParseQuery gives %+v", raw, got, want)
		}
	})
}

// FuzzDecodeFlatStrings checks that whenever decodeFlatStrings accepts a body,
// json.Unmarshal accepts it too and gives the same fields (change_room_owner's request).
func FuzzDecodeFlatStrings(f *testing.F) {
	for _, s := range []string{
		`{"RoomId":"r1","NewOwner_Account":"u2"}`, ` { "RoomId" : "r1" , "NewOwner_Account" : "u2" } `, `{}`, `{"RoomId":"a","RoomId":"b"}`,
		`{"roomid":"r1"}`, `{"RoomId":null}`, `{"RoomId":1}`, `{"RoomId":"a\"b"}`, `{"RoomId":"é"}`, `{"RoomId":"r1",}`,
		`{"RoomId":"r1"}x`, `{"Other":"x","RoomId":"r"}`, `{"RoomId":"r1"`, "{\"RoomId\":\"r\x01\"}", `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	names := []string{"RoomId", "NewOwner_Account"}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast struct{ RoomId, NewOwner_Account string }
		if !decodeFlatStrings(body, names, []*string{&fast.RoomId, &fast.NewOwner_Account}) {
			if fast.RoomId != "" || fast.NewOwner_Account != "" {
				t.Fatalf("decodeFlatStrings(%q) refused the body but wrote %+v", body, fast)
			}
			return
		}
		var slow struct {
			RoomId           string `json:"RoomId"`
			NewOwner_Account string `json:"NewOwner_Account"`
		}
		if err := json.Unmarshal(body, &slow); err != nil {
			t.Fatalf("decodeFlatStrings(%q) accepted a body json.Unmarshal refuses: %v", body, err)
		}
		if fast.RoomId != slow.RoomId || fast.NewOwner_Account != slow.NewOwner_Account {
			t.Fatalf("decodeFlatStrings(%q) = %+v, json.Unmarshal gives %+v", body, fast, slow)
		}
	})
}
