package dispatcher

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// TestParseHead: the plain forms are read, with the body framing and connection reuse
// net/http gives them; anything else is left to net/http.
func TestParseHead(t *testing.T) {
	for _, c := range []struct {
		head    string
		ok      bool
		status  int
		length  int64
		chunked bool
		close   bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", true, 200, 2, false, false},
		{"HTTP/1.1 200\r\ncontent-length:0\r\n\r\n", true, 200, 0, false, false},
		{"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n", true, 503, -1, true, false},
		{"HTTP/1.1 200 OK\r\n\r\n", true, 200, -1, false, true},
		{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", true, 200, 2, false, true},
		{"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\n", true, 200, 2, false, false},
		{"HTTP/1.1 200 OK\r\nConnection: upgrade, CLOSE\r\nContent-Length: 2\r\n\r\n", true, 200, 2, false, true},
		{"HTTP/1.1 100 Continue\r\n\r\n", true, 100, 0, false, false},
		{"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", true, 204, 0, false, false},
		{"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", true, 304, 0, false, false},
		{"HTTP/1.1 101 Switching Protocols\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nTrailer: X\r\nTransfer-Encoding: chunked\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1  200 OK\r\n\r\n", false, 0, 0, false, false},
		{"HTTP/1.1 200OK\r\n\r\n", false, 0, 0, false, false},
	} {
		h, ok := parseHead([]byte(c.head))
		if ok != c.ok || ok && (h.status != c.status || h.length != c.length || h.chunked != c.chunked || h.close != c.close) {
			t.Errorf("%q: %+v %v, want ok %v status %d length %d chunked %v close %v", c.head, h, ok, c.ok, c.status, c.length, c.chunked, c.close)
		}
	}
}

// FuzzParseHead holds the minimal reply parser to net/http's reading of the same bytes:
// whatever parseHead takes, http.ReadResponse takes too, with the same status, body
// framing, connection reuse, Retry-After and Location; and the body readBody reads is
// the one (with the same error) that the http.Client path reads through net/http.
func FuzzParseHead(f *testing.F) {
	for _, c := range oddReplies {
		f.Add([]byte(c.reply))
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nRetry-After: 5\r\nLocation: /x\r\n\r\n{}"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nA: b\r\n\r\nrest"))
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(b), 4096)
		head, err := peekHead(br)
		if err != nil {
			return
		}
		h, ok := parseHead(head)
		if !ok {
			return
		}
		br.Discard(len(head))
		resp, err := http.ReadResponse(bufio.NewReaderSize(bytes.NewReader(b), 4096), postReq)
		if err != nil {
			t.Fatalf("parseHead took %q, net/http: %v", head, err)
		}
		length := resp.ContentLength
		if resp.StatusCode/100 == 1 || resp.StatusCode == 204 || resp.StatusCode == 304 || resp.Body == http.NoBody {
			length = 0
		}
		chunked := len(resp.TransferEncoding) > 0 && length != 0
		if h.status != resp.StatusCode || h.length != length || h.chunked != chunked || h.close != resp.Close {
			t.Fatalf("%q: parseHead %+v, net/http status %d length %d chunked %v close %v", head, h, resp.StatusCode, length, chunked, resp.Close)
		}
		if string(h.retryAfter) != resp.Header.Get("Retry-After") || string(h.location) != resp.Header.Get("Location") {
			t.Fatalf("%q: Retry-After %q Location %q, net/http %q %q", head, h.retryAfter, h.location, resp.Header.Get("Retry-After"), resp.Header.Get("Location"))
		}
		if h.status/100 == 1 {
			return // skipped by the reader; the next reply is another case
		}
		body, eof, err := readBody(br, &h, nil)
		want, wantErr := io.ReadAll(io.LimitReader(resp.Body, maxReplyBody))
		if !bytes.Equal(body, want) || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("%q: body %q, %v; net/http %q, %v", b, body, err, want, wantErr)
		}
		if eof && err != nil {
			t.Fatalf("%q: eof with error %v", b, err)
		}
		if eof && h.length > 0 && int64(len(body)) != h.length {
			t.Fatalf("%q: eof after %d of %d bytes", b, len(body), h.length)
		}
	})
}
