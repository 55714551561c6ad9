package storetest

import (
	"fmt"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

func testFollows(t *testing.T, h *Harness) {
	follow := func(t *testing.T, s store.Store, pairs ...[3]any) {
		t.Helper()
		mustTx(t, s, func(tx store.Tx) error {
			for _, p := range pairs {
				if err := tx.FollowInsert(ctx(t), store.Follow{App: app, From: p[0].(string), To: p[1].(string), CreatedAt: at(p[2].(int))}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	list := func(t *testing.T, s store.Store, p store.FollowListParams) string {
		t.Helper()
		p.App = app
		es, err := s.FollowList(ctx(t), p)
		wantErr(t, "FollowList", err, nil)
		out := ""
		for _, e := range es {
			out += fmt.Sprintf("%s@%d ", e.UserID, e.Since.Sub(base).Milliseconds()/1000)
		}
		return out
	}

	t.Run("InsertIsDeleteConflict", func(t *testing.T) {
		s := h.Fresh(t)
		follow(t, s, [3]any{"a", "b", 1})
		mustTx(t, s, func(tx store.Tx) error {
			err := tx.FollowInsert(ctx(t), store.Follow{App: app, From: "a", To: "b", CreatedAt: at(2)})
			wantErr(t, "FollowInsert again", err, store.ErrConflict)
			// The transaction stays usable after the conflict.
			return tx.FollowInsert(ctx(t), store.Follow{App: other, From: "a", To: "b", CreatedAt: at(2)})
		})
		for _, c := range []struct {
			app      uint64
			from, to string
			want     bool
		}{{app, "a", "b", true}, {app, "b", "a", false}, {other, "a", "b", true}, {app, "a", "c", false}} {
			got, err := s.FollowIs(ctx(t), c.app, c.from, c.to)
			if err != nil || got != c.want {
				t.Errorf("FollowIs(%d, %s, %s) = %v, %v; want %v", c.app, c.from, c.to, got, err, c.want)
			}
		}
		mustTx(t, s, func(tx store.Tx) error {
			wantErr(t, "FollowDelete of a missing relation", tx.FollowDelete(ctx(t), app, "b", "a"), store.ErrNotFound)
			return tx.FollowDelete(ctx(t), app, "a", "b")
		})
		if got, _ := s.FollowIs(ctx(t), app, "a", "b"); got {
			t.Error("a still follows b after FollowDelete")
		}
		if got, _ := s.FollowIs(ctx(t), other, "a", "b"); !got {
			t.Error("FollowDelete removed the relation of the other app")
		}
	})

	t.Run("ListsCountsAndPages", func(t *testing.T) {
		s := h.Fresh(t)
		follow(t, s, [3]any{"a", "b", 1}, [3]any{"a", "c", 3}, [3]any{"a", "d", 3}, [3]any{"b", "a", 2},
			[3]any{"c", "a", 5}, [3]any{"e", "a", 4})
		for _, c := range []struct {
			kind store.FollowKind
			want string
			n    int
		}{
			{store.FollowKindFollowing, "c@3 d@3 b@1 ", 3},
			{store.FollowKindFollowers, "c@5 e@4 b@2 ", 3},
			{store.FollowKindMutual, "c@5 b@2 ", 2},
		} {
			if got := list(t, s, store.FollowListParams{UserID: "a", Kind: c.kind}); got != c.want {
				t.Errorf("kind %d: list %q, want %q", c.kind, got, c.want)
			}
			n, err := s.FollowCount(ctx(t), app, "a", c.kind)
			if err != nil || n != c.n {
				t.Errorf("kind %d: count %d, %v; want %d", c.kind, n, err, c.n)
			}
		}
		// Pages of one continue after the last entry, through equal times.
		page := store.FollowListParams{UserID: "a", Kind: store.FollowKindFollowing, Limit: 1}
		got := ""
		for range 4 {
			p := list(t, s, page)
			got += p + "| "
			es, _ := s.FollowList(ctx(t), store.FollowListParams{App: app, UserID: "a", Kind: page.Kind, After: page.After, Limit: 1})
			if len(es) == 0 {
				break
			}
			page.After = &es[0]
		}
		if got != "c@3 | d@3 | b@1 | | " {
			t.Errorf("pages = %q", got)
		}
	})

	t.Run("AccountDeleteEndsRelations", func(t *testing.T) {
		s := h.Fresh(t)
		mustTx(t, s, func(tx store.Tx) error {
			_, err := tx.AccountUpsert(ctx(t), store.Account{App: app, UserID: "a", CreatedAt: at(0)})
			return err
		})
		follow(t, s, [3]any{"a", "b", 1}, [3]any{"c", "a", 1}, [3]any{"c", "b", 1})
		mustTx(t, s, func(tx store.Tx) error { return tx.AccountDelete(ctx(t), app, "a") })
		if got := list(t, s, store.FollowListParams{UserID: "c", Kind: store.FollowKindFollowing}); got != "b@1 " {
			t.Errorf("c follows %q after a was deleted, want only b", got)
		}
		if n, _ := s.FollowCount(ctx(t), app, "b", store.FollowKindFollowers); n != 1 {
			t.Errorf("b has %d followers after a was deleted, want 1", n)
		}
	})
}
