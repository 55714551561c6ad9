package storetest

import (
	"testing"

	"github.com/roomd/roomd/internal/store"
)

func testProfiles(t *testing.T, h *Harness) {
	str := func(s string) *string { return &s }
	t.Run("UpdateKeepsAbsentValues", func(t *testing.T) {
		s := h.Fresh(t)
		mustTx(t, s, func(tx store.Tx) error {
			_, err := tx.AccountUpsert(ctx(t), store.Account{App: app, UserID: "alice", Nick: "A", FaceURL: "f", CreatedAt: at(1)})
			return err
		})
		mustTx(t, s, func(tx store.Tx) error {
			return tx.AccountProfileUpdate(ctx(t), store.AccountProfileUpdate{App: app, UserID: "alice", Nick: str("Alice")})
		})
		got, err := s.AccountGet(ctx(t), app, "alice")
		wantErr(t, "AccountGet", err, nil)
		if got.Nick != "Alice" || got.FaceURL != "f" || !sameTime(got.CreatedAt, at(1)) {
			t.Errorf("after nick update: %+v", got)
		}
		mustTx(t, s, func(tx store.Tx) error {
			return tx.AccountProfileUpdate(ctx(t), store.AccountProfileUpdate{App: app, UserID: "alice", FaceURL: str("")})
		})
		got, _ = s.AccountGet(ctx(t), app, "alice")
		if got.Nick != "Alice" || got.FaceURL != "" {
			t.Errorf("after face update: %+v", got)
		}
	})

	t.Run("UpdateMissingAccount", func(t *testing.T) {
		s := h.Fresh(t)
		mustTx(t, s, func(tx store.Tx) error {
			err := tx.AccountProfileUpdate(ctx(t), store.AccountProfileUpdate{App: app, UserID: "ghost", Nick: str("x")})
			wantErr(t, "AccountProfileUpdate of a missing account", err, store.ErrNotFound)
			return nil
		})
	})

	t.Run("TagsSetReplaceListDelete", func(t *testing.T) {
		s := h.Fresh(t)
		mustTx(t, s, func(tx store.Tx) error {
			for _, a := range []uint64{app, other} {
				if _, err := tx.AccountUpsert(ctx(t), store.Account{App: a, UserID: "alice", CreatedAt: at(1)}); err != nil {
					return err
				}
			}
			if err := tx.ProfileTagSet(ctx(t), other, "alice", []store.ProfileTag{{Tag: "Tag_Profile_IM_Level", Value: []byte(`9`)}}); err != nil {
				return err
			}
			return tx.ProfileTagSet(ctx(t), app, "alice", []store.ProfileTag{
				{Tag: "Tag_Profile_IM_SelfSignature", Value: []byte(`"hi"`)},
				{Tag: "Tag_Profile_IM_Level", Value: []byte(`3`)},
			})
		})
		mustTx(t, s, func(tx store.Tx) error {
			return tx.ProfileTagSet(ctx(t), app, "alice", []store.ProfileTag{{Tag: "Tag_Profile_IM_Level", Value: []byte(`4`)}})
		})
		got, err := s.ProfileTagList(ctx(t), app, "alice")
		wantErr(t, "ProfileTagList", err, nil)
		if show(got) != show([]store.ProfileTag{{Tag: "Tag_Profile_IM_Level", Value: []byte(`4`)}, {Tag: "Tag_Profile_IM_SelfSignature", Value: []byte(`"hi"`)}}) {
			t.Errorf("tags = %s", show(got))
		}
		if none, _ := s.ProfileTagList(ctx(t), app, "nobody"); len(none) != 0 {
			t.Errorf("tags of a missing account = %s", show(none))
		}
		// Deleting the account deletes its fields; an account imported again has none.
		mustTx(t, s, func(tx store.Tx) error {
			if err := tx.AccountDelete(ctx(t), app, "alice"); err != nil {
				return err
			}
			_, err := tx.AccountUpsert(ctx(t), store.Account{App: app, UserID: "alice", CreatedAt: at(2)})
			return err
		})
		if got, _ := s.ProfileTagList(ctx(t), app, "alice"); len(got) != 0 {
			t.Errorf("tags after delete and import = %s", show(got))
		}
		if got, _ := s.ProfileTagList(ctx(t), other, "alice"); len(got) != 1 {
			t.Errorf("tags of the other app = %s", show(got))
		}
	})
}
