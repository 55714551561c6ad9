package room

import "testing"

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
