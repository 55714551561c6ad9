package bench

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// The lean reader parses frames however the socket cuts them: byte by byte, several at once,
// with 16-bit lengths.
func TestPollReaderConsumeSplitFrames(t *testing.T) {
	frame := func(op byte, p string) []byte {
		b := []byte{0x80 | op}
		if len(p) < 126 {
			b = append(b, byte(len(p)))
		} else {
			b = append(b, 126, byte(len(p)>>8), byte(len(p)))
		}
		return append(b, p...)
	}
	long := strings.Repeat("x", 300)
	stream := slices.Concat(frame(1, "a"), frame(1, long), frame(2, "b"), frame(1, ""), frame(1, "marker"))
	want := []string{"a", long, "b", "", "marker"}
	for _, step := range []int{1, 2, 3, 7, 64, len(stream)} {
		var got []string
		r := &pollReader{onText: func(p []byte) { got = append(got, string(p)) }}
		pc := &pollConn{fd: -1}
		for rest := stream; len(rest) > 0; {
			n := min(step, len(rest))
			if err := r.consume(pc, bytes.Clone(rest[:n])); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			rest = rest[n:]
		}
		if !slices.Equal(got, want) || len(pc.pending) != 0 {
			t.Errorf("step %d: got %d messages %q, pending %d", step, len(got), got, len(pc.pending))
		}
	}
	if _, _, _, err := parseFrame([]byte{0x01, 0x00}); err == nil {
		t.Error("a fragment was accepted")
	}
}
