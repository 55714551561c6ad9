package dispatcher

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
)

// The dispatcher reads the App backend's reply to a callback on its own connections (see
// leanTransport.post) with a minimal HTTP/1.1 response parser: parseHead reads the status
// line and the header of a reply once peekHead has found all of it in the connection's
// buffer, and readBody reads its body into a reused buffer. No http.Response, header map or
// string per header is made. Only the plain forms of a reply (below) are read so; for any
// other, peekHead (line by line, as the lines arrive) or parseHead reports it without
// consuming anything, and the reply is read by net/http's ReadResponse exactly as before,
// which also gives a malformed reply the error text it always had, as early as it did.
//
// The plain form, which FuzzParseHead holds to net/http's reading of the same bytes:
//
//   - the status line is "HTTP/1.1 " or "HTTP/1.0 ", three digits, and nothing or a space
//     and a reason phrase; status 101 is not plain;
//   - every line ends in CRLF and holds only tab and visible ASCII or space;
//   - every header line is a non-empty token, a colon and a value (no continuation lines);
//   - at most one Content-Length, of 1 to 18 digits (surrounding white space aside);
//   - Transfer-Encoding, if present, is one field "chunked" on HTTP/1.1 without a
//     Content-Length; no Trailer field.

// maxReplyBody bounds the reply body read; the rest of a longer one is not read (and its
// connection is closed).
const maxReplyBody = 64 << 10

// replyHead is what the dispatcher needs of a reply's status line and header.
type replyHead struct {
	status int
	// close is set when the connection may not carry another request after this reply:
	// Connection: close, HTTP/1.0 without keep-alive, or a body that lasts until the end
	// of the connection.
	close bool
	// length is the body's length: 0 for none, -1 for chunked or until the connection ends.
	length  int64
	chunked bool
	// retryAfter and location are the first Retry-After and Location values, trimmed.
	retryAfter, location []byte
}

// parseHead parses b, a reply's status line and header up to and including the empty
// line that ends it. ok is false when the reply is not of the plain form; nothing of it
// is then taken as read.
func parseHead(b []byte) (h replyHead, ok bool) {
	line, rest, ok := cutLine(b)
	if !ok || !plainHeadLine(line, true) {
		return h, false
	}
	http10 := line[7] == '0'
	for _, c := range line[9:12] {
		h.status = h.status*10 + int(c-'0')
	}
	if h.status == http.StatusSwitchingProtocols {
		return h, false
	}
	var cl []byte
	haveCL, haveTE, connClose, connKeep := false, false, false, false
	for {
		line, rest, ok = cutLine(rest)
		if !ok {
			return h, false
		}
		if len(line) == 0 {
			break // the end of the header
		}
		if !plainHeadLine(line, false) {
			return h, false
		}
		colon := bytes.IndexByte(line, ':')
		name, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
		switch {
		case fieldIs(name, "Content-Length"):
			if haveCL || len(value) == 0 || len(value) > 18 {
				return h, false
			}
			for _, c := range value {
				if c < '0' || c > '9' {
					return h, false
				}
			}
			haveCL, cl = true, value
		case fieldIs(name, "Transfer-Encoding"):
			if haveTE || http10 || !fieldIs(value, "chunked") {
				return h, false
			}
			haveTE = true
		case fieldIs(name, "Trailer"):
			return h, false
		case fieldIs(name, "Connection"):
			connClose = connClose || hasToken(value, "close")
			connKeep = connKeep || hasToken(value, "keep-alive")
		case fieldIs(name, "Retry-After"):
			if h.retryAfter == nil {
				h.retryAfter = value[:len(value):len(value)]
			}
		case fieldIs(name, "Location"):
			if h.location == nil {
				h.location = value[:len(value):len(value)]
			}
		}
	}
	if len(rest) != 0 || (haveCL && haveTE) {
		return h, false
	}
	h.close = connClose || (http10 && !connKeep)
	h.length = -1
	switch {
	case h.status/100 == 1 || h.status == http.StatusNoContent || h.status == http.StatusNotModified:
		h.length = 0 // no body, whatever the header says
	case haveTE:
		h.chunked = true
	case haveCL:
		h.length = 0
		for _, c := range cl {
			h.length = h.length*10 + int64(c-'0')
		}
	default:
		h.close = true // the body lasts until the connection ends
	}
	return h, true
}

// cutLine cuts b after its first CRLF and returns the line without it; ok is false when
// b has no CRLF or a CR or LF elsewhere than at the end of the line.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 1 || b[i-1] != '\r' {
		return nil, nil, false
	}
	line = b[:i-1]
	if bytes.IndexByte(line, '\r') >= 0 {
		return nil, nil, false
	}
	return line, b[i+1:], true
}

// plainLine reports whether b holds only tab, space and visible ASCII.
func plainLine(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c > '~' {
			return false
		}
	}
	return true
}

// fieldIs reports whether b is s, ASCII case-insensitively.
func fieldIs(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c, d := b[i], s[i]
		if c|0x20 != d|0x20 || (c|0x20 < 'a' || c|0x20 > 'z') && c != d {
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated list v holds token (ASCII
// case-insensitively, white space around the elements aside), as net/http reads
// Connection.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		elem := v
		if i := bytes.IndexByte(v, ','); i >= 0 {
			elem, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if fieldIs(bytes.Trim(elem, " \t"), token) {
			return true
		}
	}
	return false
}

// errHeadNotPlain is peekHead's report of a header that is not of the plain form, or that
// it cannot hold whole in the buffer.
var errHeadNotPlain = errors.New("reply header not plain")

// peekHead waits until br holds a whole reply header (up to its empty line) and returns it,
// without consuming it. It checks each line as it arrives, and returns errHeadNotPlain as
// soon as one is not of the plain form (or when the header does not fit in br's buffer),
// so that net/http reads the reply with no more waiting than it would do itself: as long
// as every line is plain, net/http too waits for the next. It returns the read error when
// the connection fails first.
func peekHead(br *bufio.Reader) ([]byte, error) {
	checked, want := 0, 1
	for {
		if _, err := br.Peek(want); err != nil {
			return nil, err
		}
		b, _ := br.Peek(br.Buffered())
		for {
			i := bytes.IndexByte(b[checked:], '\n')
			if i < 0 {
				break
			}
			line, rest, ok := cutLine(b[checked:])
			if !ok || !plainHeadLine(line, checked == 0) {
				return nil, errHeadNotPlain
			}
			checked = len(b) - len(rest)
			if len(line) == 0 {
				return b[:checked], nil
			}
		}
		if len(b) >= br.Size() {
			return nil, errHeadNotPlain
		}
		want = len(b) + 1
	}
}

// plainHeadLine reports whether line (without its CRLF) is of the plain form: a status
// line when first, else a header field or the empty line.
func plainHeadLine(line []byte, first bool) bool {
	if first {
		return len(line) >= 12 && string(line[:7]) == "HTTP/1." && (line[7] == '0' || line[7] == '1') && line[8] == ' ' &&
			isDigit(line[9]) && isDigit(line[10]) && isDigit(line[11]) && (len(line) == 12 || line[12] == ' ') && plainLine(line[12:])
	}
	if len(line) == 0 {
		return true
	}
	colon := bytes.IndexByte(line, ':')
	return colon > 0 && plainToken(string(line[:colon]), isTokenByte) && plainLine(line[colon+1:])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

var crlfcrlf = []byte("\r\n\r\n")

// readBody reads the body of a reply with head h from br, up to maxReplyBody bytes, into
// buf[:0] and returns it. eof reports that the body was read to its end (and, chunked, its
// trailer too), so that the connection may carry another request. The errors are those
// net/http's body reader gives for the same bytes.
func readBody(br *bufio.Reader, h *replyHead, buf []byte) (body []byte, eof bool, err error) {
	switch {
	case h.chunked:
		body, eof, err = readAllLimited(httputil.NewChunkedReader(br), buf[:0])
		if eof {
			if err = readTrailer(br); err != nil {
				eof = false
			}
		}
		return body, eof, err
	case h.length == 0:
		return buf[:0], true, nil
	case h.length > 0:
		n := int(min(h.length, maxReplyBody))
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		body = buf[:n]
		got, err := io.ReadFull(br, body)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // (net/http: an end before Content-Length)
		}
		return body[:got], err == nil && int64(n) == h.length, err
	default:
		// Until the connection ends: its end is the end of the body.
		body, _, err = readAllLimited(br, buf[:0])
		return body, false, err
	}
}

// readAllLimited appends r's bytes to buf until r ends (eof) or maxReplyBody bytes are
// read, as io.ReadAll(io.LimitReader(r, maxReplyBody)) does.
func readAllLimited(r io.Reader, buf []byte) (b []byte, eof bool, err error) {
	b = buf
	for len(b) < maxReplyBody {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):min(cap(b), maxReplyBody)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, true, nil
		}
		if err != nil {
			return b, false, err
		}
	}
	return b, false, nil
}

// errTrailerEOF is net/http's error for a chunked body that ends in its trailer.
var errTrailerEOF = errors.New("http: unexpected EOF reading trailer")

// readTrailer reads the trailer after a chunked body, as net/http's body reader does: most
// often just the final CRLF.
func readTrailer(br *bufio.Reader) error {
	buf, err := br.Peek(2)
	if bytes.Equal(buf, crlfcrlf[:2]) {
		br.Discard(2)
		return nil
	}
	if len(buf) < 2 {
		return errTrailerEOF
	}
	if err != nil {
		return err
	}
	// A trailer: it must end within the buffer (net/http's bound on its size, found
	// the way net/http finds it).
	for n := 4; ; n++ {
		b, err := br.Peek(n)
		if bytes.HasSuffix(b, crlfcrlf) {
			break
		}
		if err != nil {
			return errors.New("http: suspiciously long trailer after chunked body")
		}
	}
	if _, err := textproto.NewReader(br).ReadMIMEHeader(); err != nil {
		if err == io.EOF {
			return errTrailerEOF
		}
		return err
	}
	return nil
}
