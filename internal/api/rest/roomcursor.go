package rest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
	"unicode/utf8"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
)

// The Next cursor of get_room_list is opaque to callers: base64url (no padding) of
//
//	version(1) | flags(1) | varint ViewCount | varint CreateTime ms | RoomId | MAC(12)
//
// where MAC is HMAC-SHA256 under the app's secret key over a domain label, the SDKAppID
// and the preceding bytes, truncated to 12 bytes. A cursor that was altered, cut, or made
// for another app or sort direction fails to decode and the call answers 100002. The
// cursor is a keyset position (the last room of the previous page), so it stays valid
// across restarts and while rooms come and go.

const (
	cursorVersion  = 1
	cursorMACBytes = 12
	// maxCursorLen bounds the encoded cursor; a real one is well under 100 characters.
	maxCursorLen = 256
	// cursorAscending is the flags bit of a cursor made for SortDirection "ascend".
	cursorAscending = 1
)

var errBadCursor = errcode.InvalidBare("Next", "is not a cursor returned by get_room_list")

func cursorMAC(key string, app uint64, payload []byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("roomd get_room_list cursor\x00"))
	var a [8]byte
	binary.BigEndian.PutUint64(a[:], app)
	m.Write(a[:])
	m.Write(payload)
	return m.Sum(nil)[:cursorMACBytes]
}

// encodeRoomCursor returns the Next cursor positioned after r.
func encodeRoomCursor(key string, app uint64, ascending bool, r room.Room) string {
	b := make([]byte, 0, 2+2*binary.MaxVarintLen64+len(r.ID)+cursorMACBytes)
	flags := byte(0)
	if ascending {
		flags |= cursorAscending
	}
	b = append(b, cursorVersion, flags)
	b = binary.AppendVarint(b, r.ViewCount)
	created := int64(0)
	if !r.CreateTime.IsZero() {
		created = r.CreateTime.UnixMilli()
	}
	b = binary.AppendVarint(b, created)
	b = append(b, r.ID...)
	b = append(b, cursorMAC(key, app, b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeRoomCursor parses a Next cursor made by encodeRoomCursor for app with the same
// direction, and returns the room position it holds.
func decodeRoomCursor(key string, app uint64, ascending bool, s string) (*store.Room, error) {
	if len(s) > maxCursorLen {
		return nil, errBadCursor
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	// The decoder skips '\r' and '\n'; only the exact text this server wrote is a cursor.
	if err != nil || len(b) < 2+2+cursorMACBytes || base64.RawURLEncoding.EncodeToString(b) != s {
		return nil, errBadCursor
	}
	payload, mac := b[:len(b)-cursorMACBytes], b[len(b)-cursorMACBytes:]
	if !hmac.Equal(mac, cursorMAC(key, app, payload)) {
		return nil, errBadCursor
	}
	if payload[0] != cursorVersion {
		return nil, errBadCursor
	}
	if (payload[1]&cursorAscending != 0) != ascending || payload[1]&^cursorAscending != 0 {
		return nil, errBadCursor
	}
	rest := payload[2:]
	views, n := binary.Varint(rest)
	if n <= 0 {
		return nil, errBadCursor
	}
	rest = rest[n:]
	created, n := binary.Varint(rest)
	if n <= 0 {
		return nil, errBadCursor
	}
	id := string(rest[n:])
	if id == "" || len(id) > room.MaxRoomIDBytes || !utf8.ValidString(id) {
		return nil, errBadCursor
	}
	var ct time.Time
	if created != 0 {
		ct = time.UnixMilli(created)
	}
	return &store.Room{App: app, RoomID: id, ViewCount: views, CreatedAt: ct}, nil
}
