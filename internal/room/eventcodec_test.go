package room_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/golden"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// broadcastSamples returns one event of every broadcast kind, with every field set, as the
// golden file pins them.
func broadcastSamples() []room.Event {
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := room.EventHead{App: 1400000001, RoomID: "live_1", Operator: "alice", Platform: "Web", ClientIP: "127.0.0.1", Time: t}
	aud := room.Audience{MemberCount: 3, Managers: []string{"alice", "bob"}}
	r := room.Room{App: 1400000001, ID: "live_1", Owner: "alice", CreateTime: t, ViewCount: 7, IsPublicVisible: true,
		Info: room.Info{RoomType: "Live", RoomName: "Hello", Category: []int{1, 2}, TakeSeatMode: "ApplyToTake", MaxSeatCount: 8,
			IsSeatEnabled: true, Notice: "hi", CustomInfo: "x"},
		MemberCount: 3, OnlineCount: 2, OwnerName: "Alice", OwnerAvatarURL: "https://a.example/a.png"}
	seat := room.Seat{Index: 1, UserID: "carol", VideoLocked: true}
	req := room.SeatRequest{ID: "req_1", RoomID: "live_1", UserID: "carol", Index: -1, CreatedAt: t, ExpiresAt: t.Add(time.Minute)}
	b := room.Battle{App: 1400000001, ID: "battle_1", Operator: "alice", Duration: time.Minute, Timeout: 10 * time.Second,
		NeedResponse: true, ExtensionInfo: "e", Status: store.BattleRunning, EndType: 1, CreateTime: t, StartTime: t.Add(time.Second),
		Rooms: []room.BattleRoom{{RoomID: "live_1", Owner: "alice", State: store.BattleRoomJoined, Score: 5},
			{RoomID: "live_2", Owner: "dave", State: store.BattleRoomJoined, Score: 3}}}
	bh := h
	return []room.Event{
		room.MembersOnline{EventHead: h, Users: []string{"carol"}, Cause: webhook.CauseEnter, Audience: aud},
		room.MembersOffline{EventHead: h, Users: []string{"carol", "erin"}, Cause: webhook.CauseHeartbeatInterrupt, Audience: aud},
		room.UserKicked{EventHead: h, UserID: "carol", Reason: "kicked out of the room"},
		room.RoomDismissed{EventHead: h, BySystem: true, Room: r, Statistic: room.Statistic{
			Statistic:     webhook.Statistic{TotalViewers: 7, TotalGiftsSent: 2, TotalGiftCoins: 20, TotalUniqueGiftSenders: 1, TotalLikesReceived: 4},
			TotalMsgCount: 9}},
		room.OwnerChanged{EventHead: h, From: "alice", To: "bob"},
		room.AdminsChanged{EventHead: h, Users: []string{"bob"}, Added: true},
		room.RoomInfoChanged{EventHead: h, Room: r, MessageDisabledChanged: true},
		room.MetadataChanged{EventHead: h, Set: []room.Metadata{{Key: "k", Value: "v"}}, Deleted: []string{"old"}},
		room.MessageSent{EventHead: h, Sender: "carol", Seq: 12, Text: "hello", MsgID: "m1", Random: 42,
			Body: json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello"}}]`), CloudCustomData: "ccd"},
		room.MemberMuted{EventHead: h, UserID: "carol", Muted: true, Until: t.Add(time.Hour)},
		room.SeatsChanged{EventHead: h, Seats: []room.Seat{{Index: 0, UserID: "alice"}, seat}, Seated: []room.Seat{seat}, Left: []room.Seat{{Index: 2}}},
		room.SeatKicked{EventHead: h, UserID: "carol", Index: 1, Data: "bye"},
		room.SeatRequested{EventHead: h, Request: req, Managers: []string{"alice"}},
		room.SeatRequestEnded{EventHead: h, Request: req, Outcome: room.SeatRequestAccepted, Managers: []string{"alice"}},
		room.GiftSent{EventHead: h, Sender: "carol", Receivers: []string{"alice"},
			Gift:      store.Gift{App: 1400000001, ID: "rose", IconURL: "i", ResourceURL: "r", Coins: 10, Level: 1, DefaultName: "Rose", CreatedAt: t},
			Languages: []store.GiftLanguage{{ID: "rose", Language: "en", Name: "Rose", Desc: "A rose"}}, Count: 2, Seq: 3,
			Totals: room.Stats{TotalGiftsSent: 2, TotalGiftCoins: 20}},
		room.LikeSent{EventHead: h, Sender: "carol", Count: 3, TotalLikesReceived: 10},
		room.BattleCreated{EventHead: bh, Battle: b},
		room.BattleAnswered{EventHead: bh, Battle: b, RoomID: "live_2", Answer: store.BattleRoomJoined},
		room.BattleStarted{EventHead: bh, Battle: b},
		room.BattleScoresChanged{EventHead: bh, Battle: b},
		room.BattleRoomExited{EventHead: bh, Battle: b, RoomID: "live_2"},
		room.BattleEnded{EventHead: bh, Battle: b},
	}
}

// Every broadcast kind encodes as the golden file says, and decodes to the event it came
// from (BattleAnswered's RoomID, which shadows the head's, included).
func TestBroadcastEventsGolden(t *testing.T) {
	var out bytes.Buffer
	seen := map[string]bool{}
	for _, ev := range broadcastSamples() {
		kind, body, ok := room.EncodeEvent(ev)
		if !ok {
			t.Fatalf("%T is not encoded", ev)
		}
		seen[kind] = true
		out.WriteString(kind + " " + string(body) + "\n")
		got, err := room.DecodeEvent(kind, body)
		if err != nil {
			t.Fatalf("decode %s: %v", kind, err)
		}
		if !reflect.DeepEqual(got, ev) {
			t.Errorf("%s round trip:\n got %#v\nwant %#v", kind, got, ev)
		}
	}
	for _, k := range room.BroadcastKinds() {
		if !seen[k] {
			t.Errorf("broadcast kind %s has no sample in broadcastSamples", k)
		}
	}
	golden.Check(t, "testdata/broadcast_events.golden", out.Bytes())
}

// Connection-local events and events no client is pushed are not broadcast.
func TestLocalEventsNotEncoded(t *testing.T) {
	for _, ev := range []room.Event{
		room.ConnEntered{EventHead: room.EventHead{RoomID: "r"}, Conn: 1, UserID: "u"},
		room.ConnsLeft{EventHead: room.EventHead{RoomID: "r"}, Conns: []room.ConnID{1}},
		room.RoomCreated{EventHead: room.EventHead{RoomID: "r"}},
		room.FollowsChanged{From: "a"},
	} {
		if kind, _, ok := room.EncodeEvent(ev); ok {
			t.Errorf("%T is encoded as %s", ev, kind)
		}
	}
}

func TestDecodeEventErrors(t *testing.T) {
	if _, err := room.DecodeEvent("NoSuchEvent", []byte(`{}`)); !errors.Is(err, room.ErrUnknownEventKind) {
		t.Errorf("unknown kind: %v", err)
	}
	for _, body := range []string{``, `null`, `{}`, `{"head":{"RoomID":"r"}}`, `{"head":{},"event":{}}`, `{"head":{"RoomID":"r"},"event":[]}`} {
		if ev, err := room.DecodeEvent("OwnerChanged", []byte(body)); err == nil {
			t.Errorf("%q decoded to %#v", body, ev)
		}
	}
}

// Bytes read from the database of a mixed-version cluster are untrusted: DecodeEvent never
// panics, and what it decodes encodes again.
func FuzzDecodeEvent(f *testing.F) {
	for _, ev := range broadcastSamples() {
		kind, body, _ := room.EncodeEvent(ev)
		f.Add(kind, body)
	}
	f.Add("MessageSent", []byte(`{"head":{"RoomID":"r"},"event":{"Body":1}}`))
	f.Fuzz(func(t *testing.T, kind string, body []byte) {
		ev, err := room.DecodeEvent(kind, body)
		if err != nil {
			return
		}
		if ev.Head().RoomID == "" {
			t.Fatalf("decoded an event without a room: %#v", ev)
		}
		k2, body2, ok := room.EncodeEvent(ev)
		if !ok || k2 != kind {
			t.Fatalf("decoded %s does not encode again (%q, %v)", kind, k2, ok)
		}
		if want, err := encodeWithReflection(ev); err != nil || !bytes.Equal(body2, want) {
			t.Fatalf("%s encodes as\n%s\nwhere json.Marshal writes\n%s (%v)", kind, body2, want, err)
		}
	})
}

// encodeWithReflection is the broadcast body of ev as encoding/json writes it: the encoding
// EncodeEvent must match byte for byte, whichever way it encodes a kind.
func encodeWithReflection(ev room.Event) ([]byte, error) {
	head, err := json.Marshal(ev.Head())
	if err != nil {
		return nil, err
	}
	inner, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Head  json.RawMessage `json:"head"`
		Event json.RawMessage `json:"event"`
	}{head, inner})
}

// The kinds EncodeEvent writes without reflection (presence, seats, owner) come out exactly
// as json.Marshal writes them, for strings it must escape, nil and empty lists, times in
// other zones and with fractions of a second; a time json.Marshal refuses is not encoded.
func TestAppendEventMatchesJSON(t *testing.T) {
	zone := time.FixedZone("x", -(3*3600 + 30*60))
	heads := []room.EventHead{
		{},
		{App: 1400000001, RoomID: "live_1", Operator: "alice", Platform: "Web", ClientIP: "127.0.0.1", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{App: 1<<64 - 1, RoomID: "r<&>\"q\"", Operator: room.SystemOperator, Platform: "iOS\n\t\x00", ClientIP: "::1",
			Time: time.Date(2026, 12, 3, 9, 0, 0, 123456789, zone)},
		{RoomID: "直播间\u2028\u2029", Operator: "\xff\xfe bad utf-8", Platform: "\x7f", Time: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
	}
	seats := [][]room.Seat{nil, {}, {{Index: 0, UserID: "alice"}, {Index: 7, UserID: "<b>", Locked: true, VideoLocked: true, AudioLocked: true}, {Index: -1}}}
	// Each character that needs escaping alone in a string, and with others.
	users := [][]string{nil, {}, {"carol", "a<b", "a>b", "a&b", `a"b`, `a\b`, "a\x1fb", "a\x7fb", "é", "é\"&", ""}}
	var evs []room.Event
	for _, h := range heads {
		for i := range seats {
			evs = append(evs,
				room.OwnerChanged{EventHead: h, From: users[2][i], To: h.Operator},
				room.OwnerChanged{EventHead: h, From: users[2][i+3], To: users[2][i+6]},
				room.SeatsChanged{EventHead: h, Seats: seats[i], Seated: seats[(i+1)%3], Left: seats[(i+2)%3]},
				room.MembersOnline{EventHead: h, Users: users[i], Cause: "Enter", Audience: room.Audience{MemberCount: -i, Managers: users[(i+1)%3]}},
				room.MembersOffline{EventHead: h, Users: users[(i+2)%3], Cause: "Kicked<>", Audience: room.Audience{MemberCount: 1 << 40, Managers: users[i]}})
		}
	}
	for _, ev := range evs {
		_, got, ok := room.EncodeEvent(ev)
		want, err := encodeWithReflection(ev)
		if !ok || err != nil || !bytes.Equal(got, want) {
			t.Errorf("%T (ok %v) encodes as\n%s\nwhere json.Marshal writes (err %v)\n%s", ev, ok, got, err, want)
		}
	}
	bad := room.EventHead{RoomID: "r", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, ev := range []room.Event{room.OwnerChanged{EventHead: bad}, room.SeatsChanged{EventHead: bad}, room.RoomDismissed{EventHead: bad}} {
		if _, body, ok := room.EncodeEvent(ev); ok {
			t.Errorf("%T with a time json.Marshal refuses encodes as %s", ev, body)
		}
	}
}

// BenchmarkEncodeEvent measures the broadcast encoding of an owner change's two events, a
// seat list of ten seats included.
func BenchmarkEncodeEvent(b *testing.B) {
	h := room.EventHead{App: 1400000001, RoomID: "live_room_0001", Operator: "owner_a", Platform: "Web", ClientIP: "127.0.0.1", Time: time.Now().UTC()}
	seats := make([]room.Seat, 10)
	for i := range seats {
		seats[i].Index = i
	}
	seats[0].UserID = "owner_b"
	evs := []room.Event{room.OwnerChanged{EventHead: h, From: "owner_a", To: "owner_b"},
		room.SeatsChanged{EventHead: h, Seats: seats, Seated: seats[:1], Left: []room.Seat{{Index: 0, UserID: "owner_a"}}}}
	for _, ev := range evs {
		b.Run(reflect.TypeOf(ev).Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				room.EncodeEvent(ev)
			}
		})
		b.Run(reflect.TypeOf(ev).Name()+"/reflection", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				encodeWithReflection(ev)
			}
		})
	}
}
