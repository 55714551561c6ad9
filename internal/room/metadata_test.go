package room_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/webhook"
)

func TestMetadataLimits(t *testing.T) {
	f := setup(t)
	set := func(items ...room.Metadata) error { return f.rooms.SetMetadata(f.ctx, f.actor, testRoom, items) }
	keys := func(n int, value string) []room.Metadata {
		out := make([]room.Metadata, n)
		for i := range out {
			out[i] = room.Metadata{Key: fmt.Sprintf("k%d", i), Value: value}
		}
		return out
	}
	wantErr(t, set(keys(room.MaxMetadataKeys+1, "v")...), room.ErrMetadataTooManyKeys, errcode.MetadataTooMany)
	wantErr(t, set(room.Metadata{Key: "k", Value: strings.Repeat("v", room.MaxMetadataValueBytes+1)}), room.ErrMetadataValueTooLarge, errcode.MetadataValueLarge)
	wantErr(t, set(keys(9, strings.Repeat("v", room.MaxMetadataValueBytes))...), room.ErrMetadataTooLarge, errcode.MetadataTooLarge)
	wantInvalid(t, set(room.Metadata{Key: "", Value: "v"}), "")
	wantInvalid(t, set(room.Metadata{Key: strings.Repeat("k", room.MaxMetadataKeyBytes+1), Value: "v"}), "")
	wantInvalid(t, set(room.Metadata{Key: "a"}, room.Metadata{Key: "a"}), "")
	wantInvalid(t, set(), "Metadata")
	wantErr(t, f.rooms.SetMetadata(f.ctx, f.actor, "nope", keys(1, "v")), room.ErrRoomNotFound, errcode.RoomNotFound)
	f.wantEvents()

	// The key limit counts the keys the room would have after the call.
	if err := set(keys(room.MaxMetadataKeys, "v")...); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterSetMetadata)
	wantErr(t, set(room.Metadata{Key: "one-more", Value: "v"}), room.ErrMetadataTooManyKeys, errcode.MetadataTooMany)
	if err := set(room.Metadata{Key: "k0", Value: "changed"}); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterSetMetadata)
	got, err := f.rooms.GetMetadata(f.ctx, testApp, testRoom, []string{"k0", "missing"})
	if err != nil || len(got) != 1 || got[0].Value != "changed" {
		t.Errorf("GetMetadata: %+v, %v", got, err)
	}

	// Deleting keys that do not exist changes nothing and sends nothing.
	if err := f.rooms.DelMetadata(f.ctx, f.actor, testRoom, []string{"missing"}); err != nil {
		t.Fatal(err)
	}
	f.wantEvents()
	if err := f.rooms.DelMetadata(f.ctx, f.actor, testRoom, []string{"missing", "k1", "k0"}); err != nil {
		t.Fatal(err)
	}
	evs := f.wantEvents(webhook.AfterDelMetadata)
	if len(evs) == 1 {
		var b webhook.DelMetadata
		f.body(evs[0], &b)
		if strings.Join(b.Keys, ",") != "k1,k0" {
			t.Errorf("deleted keys %v, want the request's order k1,k0", b.Keys)
		}
	}
	wantInvalid(t, f.rooms.DelMetadata(f.ctx, f.actor, testRoom, nil), "Keys")
}
