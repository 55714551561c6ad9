//go:build linux && (amd64 || arm64)

package sqlite

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite writes each WAL frame with two pwrite calls, its 24-byte header and then its page,
// so a commit of 50 pages costs 100 system calls. The hooks below, installed in SQLite's
// unix VFS with xSetSystemCall, hold a transaction's frames in memory as they are written
// and write them with one pwrite when the commit frame's page arrives: before SQLite
// publishes the commit in the WAL index (no reader can ask for a frame still held) and
// before it syncs the WAL (durability "power"). When a commit returns, its frames are in
// the kernel exactly as before, so what survives kill -9 or a power cut does not change.
//
// Only appends of whole frames to a file whose name ends in "-wal" are held. Every other
// write to that file (the WAL header, a page rewritten in place), a read of it, truncating
// it and closing it first write out what is held, so SQLite reads back what it wrote whenever a
// large transaction spills pages to the WAL before it commits. A failed write of the held
// frames fails the commit frame's write, with the kernel's errno (ENOSPC included).
var walHeld struct {
	mu sync.Mutex
	// fd is the WAL file descriptor whose frames are held, -1 when none; read without mu
	// by pread to skip the lock for the other files.
	fd   atomic.Int32
	off  int64  // file offset of buf[0]
	buf  []byte // the held frames, contiguous
	page bool   // the last held write was a frame header: the next write is its page
	// commit: that header is a commit frame's (its database size field is not zero).
	commit   bool
	wal      map[int32]bool // descriptors open on a "-wal" file
	origOpen uintptr        // SQLite's posixOpen

	// Counters for tests: frames held, and pwrite calls that wrote held frames.
	frames, flushes atomic.Int64
}

// walFrameHeader is the size of a WAL frame's header.
const walFrameHeader = 24

// maxWALHeld bounds the held bytes: a larger transaction is written out in pieces.
const maxWALHeld = 4 << 20

var (
	walHooksOnce sync.Once
	walHooksErr  error
)

// installWALHooks installs the hooks in SQLite's default VFS once per process, before the
// first database is opened, and reports why it could not (every call, the same error).
// Without them SQLite writes its WAL as it always does: slower, equally safe.
func installWALHooks() error {
	walHooksOnce.Do(func() { walHooksErr = setWALHooks() })
	return walHooksErr
}

// walHooks are installed in this order: pwrite, the only hook that holds frames, comes
// after every hook that writes them out, and after open, which names the WAL files.
var walHooks = []struct {
	name string
	fn   any
}{{"close", walClose}, {"pread", walPread}, {"ftruncate", walFtruncate}, {"open", walOpen}, {"pwrite", walPwrite}}

func setWALHooks() error {
	walHeld.fd.Store(-1)
	walHeld.wal = make(map[int32]bool)
	tls := libc.NewTLS()
	defer tls.Close()
	if rc := sqlite3.Xsqlite3_initialize(tls); rc != sqlite3.SQLITE_OK {
		return errors.New("sqlite: initialize failed")
	}
	pVfs := sqlite3.Xsqlite3_vfs_find(tls, 0)
	if pVfs == 0 {
		return errors.New("sqlite: no default VFS")
	}
	vfs := (*sqlite3.Tsqlite3_vfs)(ptr(pVfs))
	if vfs.FiVersion < 3 || vfs.FxSetSystemCall == 0 || vfs.FxGetSystemCall == 0 {
		return errors.New("sqlite: the default VFS cannot override system calls")
	}
	set := *(*func(*libc.TLS, uintptr, uintptr, uintptr) int32)(unsafe.Pointer(&vfs.FxSetSystemCall))
	get := *(*func(*libc.TLS, uintptr, uintptr) uintptr)(unsafe.Pointer(&vfs.FxGetSystemCall))
	names := make([]uintptr, len(walHooks))
	defer func() {
		for _, n := range names {
			if n != 0 {
				libc.Xfree(tls, n)
			}
		}
	}()
	for i, h := range walHooks {
		n, err := libc.CString(h.name)
		if err != nil {
			return err
		}
		names[i] = n
	}
	for i, h := range walHooks {
		if h.name == "open" {
			if walHeld.origOpen = get(tls, pVfs, names[i]); walHeld.origOpen == 0 {
				return undoWALHooks(tls, set, pVfs, names[:i], errors.New("sqlite: no open system call"))
			}
		}
		if rc := set(tls, pVfs, names[i], funcPtr(h.fn)); rc != sqlite3.SQLITE_OK {
			return undoWALHooks(tls, set, pVfs, names[:i], errors.New("sqlite: cannot override "+h.name))
		}
	}
	return nil
}

// undoWALHooks gives back SQLite's own system calls for the hooks already installed
// (names) and returns err: the hooks work together or not at all.
func undoWALHooks(tls *libc.TLS, set func(*libc.TLS, uintptr, uintptr, uintptr) int32, pVfs uintptr, names []uintptr, err error) error {
	for _, n := range names {
		set(tls, pVfs, n, 0) // a null pointer restores the default
	}
	return err
}

// funcPtr is how the transpiled SQLite represents a C function pointer: the data word of an
// interface holding the Go function. fn must be a top-level function (static, never freed).
func funcPtr(fn any) uintptr {
	return (*[2]uintptr)(unsafe.Pointer(&fn))[1]
}

// ptr turns an address in the C heap (never Go memory) into a pointer. It is not inlined:
// Go 1.26's compiler fails on a memmove from such a pointer once inlined (disjointTypes).
//
//go:noinline
func ptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

func walOpen(tls *libc.TLS, zPath uintptr, flags, mode int32) int32 {
	orig := *(*func(*libc.TLS, uintptr, int32, int32) int32)(unsafe.Pointer(&walHeld.origOpen))
	fd := orig(tls, zPath, flags, mode)
	if fd >= 0 && strings.HasSuffix(libc.GoString(zPath), "-wal") {
		walHeld.mu.Lock()
		walHeld.wal[fd] = true
		walHeld.mu.Unlock()
	}
	return fd
}

func walClose(tls *libc.TLS, fd int32) int32 {
	walHeld.mu.Lock()
	if walHeld.fd.Load() == fd {
		flushHeldLocked() // a close ends the transaction's writes; an error here is too late to report
	}
	delete(walHeld.wal, fd)
	walHeld.mu.Unlock()
	return libc.Xclose(tls, fd)
}

func walPread(tls *libc.TLS, fd int32, buf uintptr, n uint64, off int64) int64 {
	if errno := flushHeldOf(fd); errno != 0 {
		return fail(tls, errno)
	}
	return libc.Xpread(tls, fd, buf, n, off)
}

func walFtruncate(tls *libc.TLS, fd int32, size int64) int32 {
	if errno := flushHeldOf(fd); errno != 0 {
		return int32(fail(tls, errno))
	}
	return libc.Xftruncate(tls, fd, size)
}

func walPwrite(tls *libc.TLS, fd int32, buf uintptr, n uint64, off int64) int64 {
	through, errno := holdWrite(fd, unsafe.Slice((*byte)(ptr(buf)), n), off)
	switch {
	case errno != 0:
		return fail(tls, errno)
	case through:
		return libc.Xpwrite(tls, fd, buf, n, off)
	}
	return int64(n)
}

// holdWrite holds p, written at off of fd, when it is a frame's header or page appended to
// the WAL, writing out what is held when p completes a commit. Otherwise it writes out what
// is held for fd and reports that p must be written through.
func holdWrite(fd int32, p []byte, off int64) (through bool, errno syscall.Errno) {
	walHeld.mu.Lock()
	defer walHeld.mu.Unlock()
	if !walHeld.wal[fd] {
		return true, 0
	}
	held := walHeld.fd.Load()
	appends := held == fd && off == walHeld.off+int64(len(walHeld.buf))
	switch {
	case walHeld.page && appends:
		// The page of the frame whose header was held last.
		walHeld.buf = append(walHeld.buf, p...)
		walHeld.page = false
		walHeld.frames.Add(1)
		if walHeld.commit || len(walHeld.buf) >= maxWALHeld {
			return false, flushHeldLocked()
		}
		return false, 0
	case len(p) == walFrameHeader && off > walFrameHeader && (appends || held != fd) && !walHeld.page:
		// A frame header: held, and the next write must be its page.
		if held != fd {
			if errno := flushHeldLocked(); errno != 0 {
				return false, errno
			}
			walHeld.fd.Store(fd)
			walHeld.off = off
		}
		walHeld.buf = append(walHeld.buf, p...)
		walHeld.page = true
		walHeld.commit = p[4]|p[5]|p[6]|p[7] != 0
		return false, 0
	}
	// Anything else on a WAL file is written through, after what is held.
	if held == fd {
		if errno := flushHeldLocked(); errno != 0 {
			return false, errno
		}
	}
	return true, 0
}

// flushHeldOf writes out the frames held for fd, if any; the lock is taken only then.
func flushHeldOf(fd int32) syscall.Errno {
	if walHeld.fd.Load() != fd {
		return 0
	}
	walHeld.mu.Lock()
	defer walHeld.mu.Unlock()
	if walHeld.fd.Load() != fd {
		return 0
	}
	return flushHeldLocked()
}

// flushHeldLocked writes the held frames with as few pwrite calls as the kernel allows and
// forgets them, written or not: a failed write fails the transaction that made them.
func flushHeldLocked() syscall.Errno {
	fd, b, off := walHeld.fd.Load(), walHeld.buf, walHeld.off
	walHeld.fd.Store(-1)
	walHeld.buf, walHeld.page, walHeld.commit = walHeld.buf[:0], false, false
	if fd < 0 || len(b) == 0 {
		return 0
	}
	walHeld.flushes.Add(1)
	for len(b) > 0 {
		n, err := syscall.Pwrite(int(fd), b, off)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			var errno syscall.Errno
			if !errors.As(err, &errno) {
				errno = syscall.EIO
			}
			return errno
		}
		if n == 0 {
			return syscall.ENOSPC
		}
		b, off = b[n:], off+int64(n)
	}
	if cap(walHeld.buf) > maxWALHeld {
		walHeld.buf = nil // a large transaction's buffer is not kept
	}
	return 0
}

// fail sets SQLite's errno and returns the failed call's -1.
func fail(tls *libc.TLS, errno syscall.Errno) int64 {
	*(*int32)(ptr(libc.X__errno_location(tls))) = int32(errno)
	return -1
}

// walHeldStats reports the frames held and the writes of held frames since the process
// started (tests).
func walHeldStats() (frames, flushes int64) { return walHeld.frames.Load(), walHeld.flushes.Load() }
