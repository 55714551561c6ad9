package dispatcher

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// TestReadyRoomsOrder: the ready list gives its rooms back oldest head first, whatever the
// order of pushes and pops.
func TestReadyRoomsOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h readyRooms
	var want []int64
	for range 2000 {
		if len(h) > 0 && rng.IntN(3) == 0 {
			q := h.pop()
			if headID(q) != want[0] {
				t.Fatalf("pop gave %d, want %d", headID(q), want[0])
			}
			want = want[1:]
			continue
		}
		id := rng.Int64N(500)
		h.push(&roomQueue{events: []store.Event{{ID: id}}})
		want = append(want, id)
		slices.Sort(want)
	}
	for len(h) > 0 {
		if q := h.pop(); headID(q) != want[0] {
			t.Fatalf("pop gave %d, want %d", headID(q), want[0])
		}
		want = want[1:]
	}
}
