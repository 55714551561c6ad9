package storetest

import (
	"cmp"
	"slices"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

func testCallbackConfigs(t *testing.T, h *Harness) {
	put := func(t *testing.T, s store.Store, c store.CallbackConfig) {
		t.Helper()
		mustTx(t, s, func(tx store.Tx) error { return tx.CallbackConfigPut(ctx(t), c) })
	}

	t.Run("GetNotFound", func(t *testing.T) {
		s := h.Fresh(t)
		_, err := s.CallbackConfigGet(ctx(t), app)
		wantErr(t, "CallbackConfigGet of an app without one", err, store.ErrNotFound)
	})

	t.Run("PutGet", func(t *testing.T) {
		s := h.Fresh(t)
		c := store.CallbackConfig{
			App: app, URL: "https://example.com/cb?x=1&y=é",
			Commands: []string{"Live.CallbackAfterCreateRoom", "Live.CallbackAfterDestroyRoom", "Live.CallbackBeforeCreateRoom"},
			Token:    "s3cret", TokenEnabled: true, UpdatedAt: at(1),
		}
		put(t, s, c)
		got, err := s.CallbackConfigGet(ctx(t), app)
		wantErr(t, "CallbackConfigGet", err, nil)
		equal(t, "callback config", got, c, normConfig)
		_, err = s.CallbackConfigGet(ctx(t), other)
		wantErr(t, "CallbackConfigGet of another app", err, store.ErrNotFound)
	})

	t.Run("PutReplaces", func(t *testing.T) {
		s := h.Fresh(t)
		put(t, s, store.CallbackConfig{App: app, URL: "https://a", Commands: []string{"A", "B"}, Token: "t", TokenEnabled: true, UpdatedAt: at(1)})
		next := store.CallbackConfig{App: app, URL: "https://b", Commands: []string{"C"}, UpdatedAt: at(2)}
		put(t, s, next)
		got, err := s.CallbackConfigGet(ctx(t), app)
		wantErr(t, "CallbackConfigGet", err, nil)
		equal(t, "callback config after the second put", got, next, normConfig)
	})

	t.Run("CommandsRoundTrip", func(t *testing.T) {
		s := h.Fresh(t)
		for _, cmds := range [][]string{nil, {}, {"Only"}, {"B", "A", "B"}} {
			c := store.CallbackConfig{App: app, URL: "https://a", Commands: cmds, UpdatedAt: at(1)}
			put(t, s, c)
			got, err := s.CallbackConfigGet(ctx(t), app)
			if err != nil {
				t.Fatal(err)
			}
			// An empty list reads back empty (nil or not); a list keeps order and repeats.
			if len(cmds) == 0 && len(got.Commands) != 0 || len(cmds) > 0 && !slices.Equal(got.Commands, cmds) {
				t.Errorf("commands %q read back as %q", cmds, got.Commands)
			}
		}
	})

	t.Run("List", func(t *testing.T) {
		s := h.Fresh(t)
		if got, err := s.CallbackConfigList(ctx(t)); err != nil || len(got) != 0 {
			t.Fatalf("CallbackConfigList of an empty store = %v, %v", got, err)
		}
		want := []store.CallbackConfig{
			{App: app, URL: "https://a", Commands: []string{"A"}, UpdatedAt: at(1)},
			{App: other, URL: "", Commands: nil, Token: "x", UpdatedAt: at(2)},
			{App: 7, URL: "https://c", Commands: []string{"C", "D"}, TokenEnabled: true, UpdatedAt: at(3)},
		}
		for _, c := range want {
			put(t, s, c)
		}
		// The same app twice is one entry.
		put(t, s, want[0])
		got, err := s.CallbackConfigList(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("CallbackConfigList returned %d configs, want %d: %+v", len(got), len(want), got)
		}
		// The order of the list is not part of the contract.
		slices.SortFunc(got, func(a, b store.CallbackConfig) int { return cmp.Compare(a.App, b.App) })
		slices.SortFunc(want, func(a, b store.CallbackConfig) int { return cmp.Compare(a.App, b.App) })
		for i := range want {
			equal(t, "listed config", got[i], want[i], normConfig)
		}
	})
}
