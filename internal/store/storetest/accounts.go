package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

func testAccounts(t *testing.T, h *Harness) {
	t.Run("UpsertCreatesThenUpdates", func(t *testing.T) {
		s := h.Fresh(t)
		first := store.Account{App: app, UserID: "alice", Nick: "Alice", FaceURL: "https://img/a.png", CreatedAt: at(1)}
		var created bool
		mustTx(t, s, func(tx store.Tx) (err error) {
			created, err = tx.AccountUpsert(ctx(t), first)
			return err
		})
		if !created {
			t.Error("first AccountUpsert reported created = false")
		}
		got, err := s.AccountGet(ctx(t), app, "alice")
		wantErr(t, "AccountGet", err, nil)
		equal(t, "account after create", got, first, normAccount)

		// The second upsert changes nick and face URL only: the creation time stays.
		second := store.Account{App: app, UserID: "alice", Nick: "Alice II", FaceURL: "", CreatedAt: at(99)}
		mustTx(t, s, func(tx store.Tx) (err error) {
			created, err = tx.AccountUpsert(ctx(t), second)
			return err
		})
		if created {
			t.Error("second AccountUpsert reported created = true")
		}
		got, err = s.AccountGet(ctx(t), app, "alice")
		wantErr(t, "AccountGet", err, nil)
		want := first
		want.Nick, want.FaceURL = "Alice II", ""
		equal(t, "account after update", got, want, normAccount)
	})

	t.Run("UpsertSameIDInOtherApp", func(t *testing.T) {
		s := h.Fresh(t)
		mustTx(t, s, func(tx store.Tx) error {
			for _, a := range []uint64{app, other} {
				created, err := tx.AccountUpsert(ctx(t), store.Account{App: a, UserID: "bob", Nick: fmt.Sprint(a), CreatedAt: at(0)})
				if err != nil {
					return err
				}
				if !created {
					return fmt.Errorf("app %d: created = false for a new account", a)
				}
			}
			return nil
		})
		for _, a := range []uint64{app, other} {
			got, err := s.AccountGet(ctx(t), a, "bob")
			wantErr(t, "AccountGet", err, nil)
			if got.Nick != fmt.Sprint(a) || got.App != a {
				t.Errorf("app %d: got %+v", a, got)
			}
		}
	})

	t.Run("GetNotFound", func(t *testing.T) {
		s := h.Fresh(t)
		mustTx(t, s, func(tx store.Tx) error {
			_, err := tx.AccountUpsert(ctx(t), store.Account{App: app, UserID: "alice", CreatedAt: at(0)})
			return err
		})
		_, err := s.AccountGet(ctx(t), app, "nobody")
		wantErr(t, "AccountGet of a missing user", err, store.ErrNotFound)
		_, err = s.AccountGet(ctx(t), other, "alice")
		wantErr(t, "AccountGet of a user of another app", err, store.ErrNotFound)
		// The user id is compared exactly.
		_, err = s.AccountGet(ctx(t), app, "Alice")
		wantErr(t, "AccountGet with other case", err, store.ErrNotFound)
	})

	t.Run("Count", func(t *testing.T) {
		s := h.Fresh(t)
		n, err := s.AccountCount(ctx(t), app)
		if err != nil || n != 0 {
			t.Fatalf("AccountCount of an empty store = %d, %v; want 0", n, err)
		}
		mustTx(t, s, func(tx store.Tx) error {
			for i := range 5 {
				if _, err := tx.AccountUpsert(ctx(t), store.Account{App: app, UserID: fmt.Sprintf("u%d", i), CreatedAt: at(i)}); err != nil {
					return err
				}
			}
			// An update is not a new account.
			if _, err := tx.AccountUpsert(ctx(t), store.Account{App: app, UserID: "u0", Nick: "again", CreatedAt: at(9)}); err != nil {
				return err
			}
			if _, err := tx.AccountUpsert(ctx(t), store.Account{App: other, UserID: "u0", CreatedAt: at(0)}); err != nil {
				return err
			}
			// The transaction sees its own writes.
			if n, err := tx.AccountCount(ctx(t), app); err != nil || n != 5 {
				return fmt.Errorf("AccountCount inside the transaction = %d, %v; want 5", n, err)
			}
			return nil
		})
		for a, want := range map[uint64]int{app: 5, other: 1, 42: 0} {
			n, err := s.AccountCount(ctx(t), a)
			if err != nil || n != want {
				t.Errorf("AccountCount(%d) = %d, %v; want %d", a, n, err, want)
			}
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := h.Fresh(t)
		mustTx(t, s, func(tx store.Tx) error {
			for _, a := range []uint64{app, other} {
				if _, err := tx.AccountUpsert(ctx(t), store.Account{App: a, UserID: "alice", CreatedAt: at(0)}); err != nil {
					return err
				}
			}
			return nil
		})
		mustTx(t, s, func(tx store.Tx) error { return tx.AccountDelete(ctx(t), app, "alice") })
		_, err := s.AccountGet(ctx(t), app, "alice")
		wantErr(t, "AccountGet after delete", err, store.ErrNotFound)
		_, err = s.AccountGet(ctx(t), other, "alice")
		wantErr(t, "AccountGet of the same id in another app", err, nil)

		err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.AccountDelete(ctx(t), app, "alice") })
		wantErr(t, "AccountDelete of a deleted account", err, store.ErrNotFound)
		err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.AccountDelete(ctx(t), app, "nobody") })
		wantErr(t, "AccountDelete of a missing account", err, store.ErrNotFound)

		// The account can be created again.
		var created bool
		mustTx(t, s, func(tx store.Tx) (err error) {
			created, err = tx.AccountUpsert(ctx(t), store.Account{App: app, UserID: "alice", CreatedAt: at(5)})
			return err
		})
		if !created {
			t.Error("AccountUpsert after delete reported created = false")
		}
	})

	t.Run("DeleteNotFoundKeepsTxUsable", func(t *testing.T) {
		// A batch delete (account_delete) goes on after an ErrNotFound in the same
		// transaction; the writes before and after it must commit.
		s := h.Fresh(t)
		mustTx(t, s, func(tx store.Tx) error {
			for _, id := range []string{"a", "c"} {
				if _, err := tx.AccountUpsert(ctx(t), store.Account{App: app, UserID: id, CreatedAt: at(0)}); err != nil {
					return err
				}
			}
			return nil
		})
		mustTx(t, s, func(tx store.Tx) error {
			if err := tx.AccountDelete(ctx(t), app, "a"); err != nil {
				return err
			}
			if err := tx.AccountDelete(ctx(t), app, "b"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("AccountDelete(b) = %v, want ErrNotFound", err)
			}
			return tx.AccountDelete(ctx(t), app, "c")
		})
		if n, err := s.AccountCount(ctx(t), app); err != nil || n != 0 {
			t.Errorf("AccountCount = %d, %v; want 0", n, err)
		}
	})
}
