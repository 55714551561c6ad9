package clientapi

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/roomd/roomd/internal/api/clientws"
)

// encodeJSON is what clientws writes for a value without AppendJSON: encoding/json without
// HTML escaping.
func encodeJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

var oddStrings = []string{"", "live-1", "a\"b\\c", "<a&b>", "tab\there\nnl\r\b\f\x00\x1f", "\x7f",
	"中文房间", "emoji 🎉", "bad utf8 \xff\xfe end", "line\u2028sep\u2029", "é"}

// TestAppendJSONMatchesEncodingJSON: the hand-written encoders of the hot pushes write
// exactly the bytes encoding/json would.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	var values []clientws.JSONAppender
	for _, s := range oddStrings {
		values = append(values, roleChanged{RoomID: s, UserID: s + "u", UserRole: roleOwner})
		seats := []seatInfo{{Index: 0, UserID: s, IsLocked: true}, {Index: -3, IsVideoLocked: true, IsAudioLocked: true}, {Index: 1 << 40}}
		values = append(values,
			seatListChanged{RoomID: s, SeatList: seats, SeatedList: seats[:1], LeftList: []seatInfo{}},
			seatListChanged{RoomID: s},
		)
	}
	for _, v := range values {
		want := encodeJSON(t, v)
		if got := v.AppendJSON([]byte("prefix")); string(got) != "prefix"+string(want) {
			t.Errorf("%#v:\nAppendJSON    %s\nencoding/json %s", v, got[len("prefix"):], want)
		}
	}
}

// FuzzAppendJSONString checks clientws.AppendJSONString against encoding/json.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range oddStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := encodeJSON(t, s)
		if got := clientws.AppendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSONString(%q) = %s, encoding/json %s", s, got, want)
		}
	})
}
