package storetest

import (
	"slices"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of a room's metadata (store/metadata.go).

func testMetadata(t *testing.T, h *Harness) {
	s := twoRooms(t, h)
	put := func(room string, kv ...string) {
		t.Helper()
		var items []store.Metadata
		for i := 0; i < len(kv); i += 2 {
			items = append(items, store.Metadata{Key: kv[i], Value: kv[i+1]})
		}
		mustTx(t, s, func(tx store.Tx) error { return tx.MetadataPut(ctx(t), app, room, items) })
	}
	get := func(room string, keys ...string) []store.Metadata {
		t.Helper()
		ms, err := s.MetadataList(ctx(t), app, room, keys)
		if err != nil {
			t.Fatalf("MetadataList: %v", err)
		}
		return ms
	}
	if g := get("r1"); g == nil || len(g) != 0 {
		t.Errorf("MetadataList of a room without metadata = %#v, want an empty non-nil slice", g)
	}
	put("r1", "b", "1", "a", "2")
	put("r1", "c", "3", "b", "changed")
	put("r2", "a", "other room")
	want := []store.Metadata{{Key: "b", Value: "changed"}, {Key: "a", Value: "2"}, {Key: "c", Value: "3"}}
	if g := get("r1"); !slices.Equal(g, want) {
		t.Errorf("MetadataList = %v, want %v (first-set order, values updated in place)", g, want)
	}
	if g := get("r1", "c", "zz", "b"); !slices.Equal(g, []store.Metadata{{Key: "b", Value: "changed"}, {Key: "c", Value: "3"}}) {
		t.Errorf("MetadataList(c, zz, b) = %v", g)
	}
	var n int
	mustTx(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.MetadataDelete(ctx(t), app, "r1", []string{"a", "zz"})
		return err
	})
	if n != 1 {
		t.Errorf("MetadataDelete reported %d deleted, want 1", n)
	}
	// A key set after a delete goes to the end.
	put("r1", "a", "again")
	if g := get("r1"); !slices.Equal(g, []store.Metadata{{Key: "b", Value: "changed"}, {Key: "c", Value: "3"}, {Key: "a", Value: "again"}}) {
		t.Errorf("after delete and re-set: %v", g)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.RoomDelete(ctx(t), app, "r1") })
	if g := get("r1"); len(g) != 0 {
		t.Errorf("metadata of a deleted room: %v", g)
	}
	if g := get("r2"); len(g) != 1 {
		t.Errorf("metadata of another room: %v", g)
	}
}
