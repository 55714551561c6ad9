package postgres

import (
	"errors"
	"io"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgproto3"
)

// sendBuffer keeps the write buffer of the writer's pipelined batches from one send to the
// next.
//
// pgx's frontend (pgproto3.Frontend) encodes a batch into its write buffer and, after sending
// it, replaces a buffer longer than 1 KiB by a new one of 1 KiB. A group's batch is several
// tens of KiB (about 1.7 KiB of Bind messages per owner change), so every send grew a new
// buffer again by doubling: runtime.growslice under Conn.SendBatch, 3–6 % of roomd's CPU in a
// PostgreSQL owner change (docs/bench.md). Before each batch the writer lends the frontend a
// buffer of its own (lend): a message that encodes nothing hands it over through the public
// Frontend.Send. The frontend appends the batch to it, sends it and lets it go; the writer
// keeps it for the next batch.
//
// The frontend's writes pass through the sendBuffer (frontend), which notes the longest, so
// that the buffer lent next fits a batch that outgrew it. A buffer is lent only to a frontend
// whose own buffer is empty and smaller, so nothing it holds is ever overwritten; and the
// frontend lets go of a lent buffer by the end of the send that used it (Flush writes
// synchronously), before the writer lends it again.
type sendBuffer struct {
	// lent holds the buffer; lend sends a pointer to it, which does not allocate.
	lent lentBuffer
	// longest is the length of the longest write of the writer's connections.
	longest atomic.Int64
}

// maxLent bounds the buffer the writer keeps: a rare larger batch (a drain's delivery
// records) grows one of the frontend's own, as before.
const maxLent = 1 << 20

// frontend is the writer's pgconn.Config.BuildFrontend: pgx's frontend, whose writes are
// measured.
func (b *sendBuffer) frontend(r io.Reader, w io.Writer) *pgproto3.Frontend {
	return pgproto3.NewFrontend(r, measuredWriter{w: w, longest: &b.longest})
}

// lend hands f the writer's buffer, grown first to the longest write seen.
func (b *sendBuffer) lend(f *pgproto3.Frontend) {
	if want := int(min(b.longest.Load(), maxLent)); cap(b.lent.buf) < want {
		b.lent.buf = make([]byte, 0, want)
	}
	f.Send(&b.lent)
}

// measuredWriter notes the length of the longest write through it.
type measuredWriter struct {
	w       io.Writer
	longest *atomic.Int64
}

func (m measuredWriter) Write(p []byte) (int, error) {
	if n := int64(len(p)); n > m.longest.Load() {
		m.longest.Store(n)
	}
	return m.w.Write(p)
}

// lentBuffer is the message lend sends: it puts nothing on the wire, and its Encode returns
// buf in place of an empty, smaller buffer.
type lentBuffer struct{ buf []byte }

func (*lentBuffer) Frontend() {}

func (*lentBuffer) Decode([]byte) error {
	return errors.New("postgres: a lent buffer is not a message to decode")
}

func (m *lentBuffer) Encode(dst []byte) ([]byte, error) {
	if len(dst) == 0 && cap(dst) < cap(m.buf) {
		return m.buf[:0], nil
	}
	return dst, nil
}
