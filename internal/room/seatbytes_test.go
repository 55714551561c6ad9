package room

import (
	"encoding/json"
	"testing"
)

// TestMayKeepOwnerSeat pins what mayKeepOwnerSeat relies on: Room.row spells a true
// KeepOwnerOnSeat as the bytes it looks for, and no other Info field, whatever its text,
// makes them appear.
func TestMayKeepOwnerSeat(t *testing.T) {
	const tricky = `"KeepOwnerOnSeat":true`
	for _, tc := range []struct {
		info Info
		want bool
	}{
		{Info{IsSeatEnabled: true, MaxSeatCount: 9, KeepOwnerOnSeat: true}, true},
		{Info{IsSeatEnabled: true, MaxSeatCount: 9, CustomInfo: tricky, Notice: tricky, RoomName: tricky}, false},
		{Info{RoomType: "Live", IsSeatEnabled: true, IsMessageDisabled: true}, false},
	} {
		row, err := Room{ID: "r", Info: tc.info}.row()
		if err != nil {
			t.Fatal(err)
		}
		if got := mayKeepOwnerSeat(row); got != tc.want {
			t.Errorf("mayKeepOwnerSeat(%s) = %v, want %v", row.Info, got, tc.want)
		}
	}
}

// TestDecodeSeatSettings pins that decodeSeatSettings reads what encoding/json reads, for
// Infos spelled by Room.row (its fast path), whatever text the other fields hold, and for
// Infos spelled otherwise (its fallback).
func TestDecodeSeatSettings(t *testing.T) {
	want := func(b []byte) seatSettings {
		var in Info
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		return seatSettings{IsSeatEnabled: in.IsSeatEnabled, MaxSeatCount: in.MaxSeatCount, SeatTemplate: in.SeatTemplate,
			KeepOwnerOnSeat: in.KeepOwnerOnSeat, TakeSeatMode: in.TakeSeatMode}
	}
	tricky := []string{"", `"KeepOwnerOnSeat":true`, `"IsSeatEnabled":false,"MaxSeatCount":3`, `"SeatTemplate":"Karaoke"`,
		`\"TakeSeatMode\":\"ApplyToTake\"`, `"}`, "é\u2028\x01"}
	var infos [][]byte
	for i, s := range tricky {
		for _, in := range []Info{
			{RoomType: "Live", IsSeatEnabled: true, MaxSeatCount: 9, SeatTemplate: "VideoDynamicGrid9Seats", KeepOwnerOnSeat: true, TakeSeatMode: FreeToTake},
			{IsSeatEnabled: i%2 == 0, MaxSeatCount: 12 * i, SeatTemplate: "Karaoke", TakeSeatMode: ApplyToTake},
			{SeatTemplate: s, TakeSeatMode: s},
			{},
		} {
			in.CustomInfo, in.Notice, in.RoomName, in.CoverURL, in.BackgroundURL = s, s, s, s, s
			row, err := Room{ID: "r", Info: in}.row()
			if err != nil {
				t.Fatal(err)
			}
			infos = append(infos, row.Info)
		}
	}
	// Not Room.row's spelling: spaces, other order, repeated and missing names.
	infos = append(infos,
		[]byte(`{ "IsSeatEnabled" : true, "MaxSeatCount" : 4, "SeatTemplate" : "Karaoke", "KeepOwnerOnSeat" : true, "TakeSeatMode":"ApplyToTake" }`),
		[]byte(`{"TakeSeatMode":"ApplyToTake","KeepOwnerOnSeat":true,"SeatTemplate":"Karaoke","MaxSeatCount":4,"IsSeatEnabled":true}`),
		[]byte(`{"IsSeatEnabled":true,"MaxSeatCount":4,"SeatTemplate":"Karaoke","KeepOwnerOnSeat":false,"TakeSeatMode":"x","KeepOwnerOnSeat":true}`),
		[]byte(`{"IsSeatEnabled":true,"MaxSeatCount":4.0,"SeatTemplate":"Kara\u006fke","KeepOwnerOnSeat":true,"TakeSeatMode":"x"}`),
		[]byte(`{"IsSeatEnabled":true}`),
		[]byte(`{}`),
	)
	for _, b := range infos {
		got, err := decodeSeatSettings(b)
		if err != nil {
			if json.Unmarshal(b, new(Info)) == nil {
				t.Errorf("decodeSeatSettings(%s): %v", b, err)
			}
			continue
		}
		if w := want(b); got != w {
			t.Errorf("decodeSeatSettings(%s) = %+v, want %+v", b, got, w)
		}
	}
}

// BenchmarkDecodeSeatSettings measures the seat settings read from the Info of a room made
// as create_room makes it, which every owner change of a room that keeps seat 0 for its
// owner does.
func BenchmarkDecodeSeatSettings(b *testing.B) {
	row, err := Room{ID: "r", Info: Info{RoomType: "Live", IsSeatEnabled: true, KeepOwnerOnSeat: true, MaxSeatCount: 9,
		SeatTemplate: DefaultSeatTemplate, TakeSeatMode: FreeToTake, RoomName: "r"}}.row()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeSeatSettings(row.Info); err != nil {
			b.Fatal(err)
		}
	}
}
