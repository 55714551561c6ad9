package rest

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/room"
)

func TestRoomCursorRoundTrip(t *testing.T) {
	for _, r := range []room.Room{
		{ID: "r1", ViewCount: 0, CreateTime: time.Unix(1700000000, 0)},
		{ID: strings.Repeat("x", room.MaxRoomIDBytes), ViewCount: 1 << 40, CreateTime: time.UnixMilli(1)},
		{ID: "直播间 #3", ViewCount: -5},
	} {
		for _, asc := range []bool{false, true} {
			s := encodeRoomCursor("key", 7, asc, r)
			if s == "" || s == "0" || len(s) > maxCursorLen {
				t.Fatalf("cursor %q", s)
			}
			got, err := decodeRoomCursor("key", 7, asc, s)
			if err != nil {
				t.Fatalf("decode(%q): %v", s, err)
			}
			if got.RoomID != r.ID || got.ViewCount != r.ViewCount || !got.CreatedAt.Equal(r.CreateTime) && !(got.CreatedAt.IsZero() && r.CreateTime.IsZero()) {
				t.Errorf("round trip of %+v = %+v", r, got)
			}
		}
	}
}

func TestRoomCursorRejectsTampering(t *testing.T) {
	r := room.Room{ID: "room-1", ViewCount: 42, CreateTime: time.Unix(1700000000, 0)}
	good := encodeRoomCursor("key", 7, false, r)
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	bad := map[string]string{
		"other key":       encodeRoomCursor("other", 7, false, r),
		"other app":       encodeRoomCursor("key", 8, false, r),
		"other direction": encodeRoomCursor("key", 7, true, r),
		"cut":             good[:len(good)-2],
		"extended":        good + "A",
		"padded":          good + "=",
		"std alphabet":    strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+",
		"not base64":      "!!!",
		"garbage":         "abc",
		"empty MAC":       base64.RawURLEncoding.EncodeToString(raw[:len(raw)-cursorMACBytes]),
		"too long":        strings.Repeat("A", maxCursorLen+1),
	}
	for i := range raw {
		flipped := append([]byte(nil), raw...)
		flipped[i] ^= 0x01
		bad["flip byte "+string(rune('a'+i%26))+string(rune('0'+i/26))] = base64.RawURLEncoding.EncodeToString(flipped)
	}
	for name, s := range bad {
		if got, err := decodeRoomCursor("key", 7, false, s); err == nil {
			t.Errorf("%s: cursor %q accepted as %+v", name, s, got)
		}
	}
}

// FuzzRoomCursor feeds arbitrary Next values to the cursor parser: it must never panic, and
// whatever it accepts must be a valid position that encodes back to the same cursor.
func FuzzRoomCursor(f *testing.F) {
	f.Add(encodeRoomCursor("key", 7, false, room.Room{ID: "r1", ViewCount: 3, CreateTime: time.Unix(1700000000, 0)}))
	f.Add(encodeRoomCursor("key", 7, true, room.Room{ID: "r2"}))
	f.Add("")
	f.Add("0")
	f.Add("AQAAoPq9m8NocjJFsz-vBA80Qrp7eZY")
	f.Fuzz(func(t *testing.T, s string) {
		for _, asc := range []bool{false, true} {
			got, err := decodeRoomCursor("key", 7, asc, s)
			if err != nil {
				continue
			}
			if err := room.ValidateRoomID(got.RoomID); err != nil {
				t.Fatalf("accepted cursor %q with bad room id: %v", s, err)
			}
			again := encodeRoomCursor("key", 7, asc, room.Room{ID: got.RoomID, ViewCount: got.ViewCount, CreateTime: got.CreatedAt})
			if again != s {
				t.Fatalf("accepted cursor %q re-encodes as %q", s, again)
			}
		}
	})
}
