package postgres

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// sendBatch encodes a batch like the writer's (a Bind and an Execute per statement) into f
// and sends it.
func sendBatch(t testing.TB, f *pgproto3.Frontend, param []byte, statements int) {
	for range statements {
		f.SendBind(&pgproto3.Bind{PreparedStatement: "stmtcache_0123456789abcdef", Parameters: [][]byte{param, []byte("42")}})
		f.SendExecute(&pgproto3.Execute{})
	}
	f.SendSync(&pgproto3.Sync{})
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
}

// A lent buffer changes no byte on the wire, and once it fits the batch, a send grows no
// buffer: its one allocation is the 1 KiB buffer the frontend takes back after a long send.
func TestSendBufferLendsTheBufferOfTheLastBatch(t *testing.T) {
	param := []byte(strings.Repeat("p", 300))
	var plain, lent bytes.Buffer
	sendBatch(t, pgproto3.NewFrontend(strings.NewReader(""), &plain), param, 100)

	var sb sendBuffer
	f := sb.frontend(strings.NewReader(""), &lent)
	sb.lend(f) // nothing seen yet: lends an empty buffer, which the frontend keeps its own over
	sendBatch(t, f, param, 100)
	if !bytes.Equal(plain.Bytes(), lent.Bytes()) {
		t.Fatalf("the lent buffer changed the wire: %d bytes, want %d", lent.Len(), plain.Len())
	}
	if got := sb.longest.Load(); got != int64(plain.Len()) {
		t.Fatalf("longest write %d, want %d", got, plain.Len())
	}
	for range 3 {
		lent.Reset()
		sb.lend(f)
		sendBatch(t, f, param, 100)
		if !bytes.Equal(plain.Bytes(), lent.Bytes()) {
			t.Fatal("a second batch in the lent buffer differs on the wire")
		}
	}

	f = sb.frontend(strings.NewReader(""), io.Discard)
	// without also checks what sendBuffer is for: that pgx still lets go of its buffer after
	// a long send. A pgx that stops doing so fails here, and sendBuffer can go.
	withLend := testing.AllocsPerRun(20, func() { sb.lend(f); sendBatch(t, f, param, 100) })
	without := testing.AllocsPerRun(20, func() { sendBatch(t, f, param, 100) })
	if withLend > 1 || without < 4 {
		t.Fatalf("allocations per send: %.0f with a lent buffer (want at most 1), %.0f without", withLend, without)
	}
}

// A buffer is lent only to a frontend whose own is empty: a message already encoded stays.
func TestLentBufferKeepsAFrontendsPendingMessages(t *testing.T) {
	var out bytes.Buffer
	var sb sendBuffer
	sb.longest.Store(64 << 10)
	f := sb.frontend(strings.NewReader(""), &out)
	f.SendSync(&pgproto3.Sync{})
	sb.lend(f)
	f.SendSync(&pgproto3.Sync{})
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := []byte{'S', 0, 0, 0, 4, 'S', 0, 0, 0, 4}; !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("wire %v, want %v", out.Bytes(), want)
	}
}
