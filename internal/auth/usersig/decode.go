package usersig

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"unicode/utf8"
)

// JSON keys of a UserSig document, dot included, as Tencent's tls-sig-api-v2 libraries write
// them (https://github.com/tencentyun/tls-sig-api-v2-golang).
const (
	keyVer        = "TLS.ver"
	keyIdentifier = "TLS.identifier"
	keySDKAppID   = "TLS.sdkappid"
	keyExpire     = "TLS.expire"
	keyTime       = "TLS.time"
	keyUserBuf    = "TLS.userbuf"
	keySig        = "TLS.sig"
)

// sigLen is the size of an HMAC-SHA256.
const sigLen = 32

// malformed returns an error wrapping ErrMalformed with a short description.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Decode parses sig into its document without checking the signature, the SDKAppID, the
// identifier or the expiry; use Verify for that. Decode is meant for untrusted input: it
// never panics, refuses input longer than MaxLen and documents larger than MaxDocumentLen,
// and reports every failure with an error wrapping ErrEmpty (for an empty sig) or
// ErrMalformed.
func Decode(sig string) (*Document, error) {
	if sig == "" {
		return nil, ErrEmpty
	}
	raw, err := decodeBase64(sig)
	if err != nil {
		return nil, err
	}
	js, err := inflate(raw)
	if err != nil {
		return nil, err
	}
	return parseDocument(js)
}

// decodeBase64 undoes the character substitution and the standard Base64 encoding.
func decodeBase64(sig string) ([]byte, error) {
	if len(sig) > MaxLen {
		return nil, malformed("%d characters, longer than %d", len(sig), MaxLen)
	}
	buf := make([]byte, len(sig))
	for i := 0; i < len(sig); i++ {
		c := sig[i]
		switch {
		case c == '*':
			c = '+'
		case c == '-':
			c = '/'
		case c == '_':
			c = '='
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/', c == '=':
		default:
			return nil, malformed("invalid character at offset %d", i)
		}
		buf[i] = c
	}
	enc := base64.StdEncoding
	if len(buf)%4 != 0 {
		// Unpadded input; RawStdEncoding rejects any '=' in it.
		enc = base64.RawStdEncoding
	}
	n, err := enc.Decode(buf, buf)
	if err != nil {
		return nil, malformed("base64: %v", err)
	}
	return buf[:n], nil
}

// zlibReaders recycles decompressors, which are costly to allocate.
var zlibReaders sync.Pool

// inflate decompresses a complete zlib stream of at most MaxDocumentLen bytes. Trailing
// bytes after the stream are refused.
func inflate(raw []byte) (out []byte, err error) {
	br := bytes.NewReader(raw)
	var zr io.ReadCloser
	if v := zlibReaders.Get(); v != nil {
		zr = v.(io.ReadCloser)
		err = zr.(zlib.Resetter).Reset(br, nil)
	} else {
		zr, err = zlib.NewReader(br)
	}
	if zr != nil {
		defer zlibReaders.Put(zr)
	}
	if err != nil {
		return nil, malformed("zlib: %v", err)
	}
	var buf bytes.Buffer
	buf.Grow(4 * len(raw))
	if _, err := buf.ReadFrom(io.LimitReader(zr, MaxDocumentLen+1)); err != nil {
		return nil, malformed("zlib: %v", err)
	}
	if buf.Len() > MaxDocumentLen {
		return nil, malformed("inflates to more than %d bytes", MaxDocumentLen)
	}
	if br.Len() != 0 {
		return nil, malformed("%d bytes after the zlib stream", br.Len())
	}
	return buf.Bytes(), nil
}

// Bits recording which known keys were seen, to refuse duplicates.
const (
	seenVer = 1 << iota
	seenIdentifier
	seenSDKAppID
	seenExpire
	seenTime
	seenUserBuf
	seenSig
)

// parseDocument parses the inflated JSON document strictly: it must be one JSON object,
// the known keys may appear once each, and they must have the right types. Unknown keys
// are ignored.
//
// The syntax is checked in full by json.Valid first; the scan that follows then only has
// to find the top-level members of a known-valid object, which avoids the allocations of
// encoding/json's token API. FuzzParseDocument checks it against an encoding/json oracle.
func parseDocument(js []byte) (*Document, error) {
	if !json.Valid(js) {
		return nil, malformed("JSON: invalid syntax")
	}
	s := scanner{js: js}
	s.skipSpace()
	if !s.consume('{') {
		return nil, malformed("JSON: document is not an object")
	}
	d := &Document{}
	var seen int
	s.skipSpace()
	if !s.consume('}') {
		for {
			s.skipSpace()
			rawKey, ok := s.value()
			if !ok || len(rawKey) == 0 || rawKey[0] != '"' {
				return nil, malformed("JSON: bad object key")
			}
			key, err := parseString(rawKey)
			if err != nil {
				return nil, malformed("JSON: %v", err)
			}
			s.skipSpace()
			if !s.consume(':') {
				return nil, malformed("JSON: missing colon")
			}
			s.skipSpace()
			raw, ok := s.value()
			if !ok {
				return nil, malformed("JSON: bad value")
			}
			if err := d.setField(key, raw, &seen); err != nil {
				return nil, err
			}
			s.skipSpace()
			if s.consume('}') {
				break
			}
			if !s.consume(',') {
				return nil, malformed("JSON: missing comma")
			}
		}
	}
	s.skipSpace()
	if s.i != len(js) {
		return nil, malformed("JSON: data after the document")
	}
	if err := checkRequired(seen); err != nil {
		return nil, err
	}
	return d, nil
}

// setField stores the JSON value raw of member key into d and records it in seen.
func (d *Document) setField(key string, raw []byte, seen *int) error {
	var (
		bit int
		err error
	)
	switch key {
	case keyVer:
		bit = seenVer
		d.Version, err = parseString(raw)
	case keyIdentifier:
		bit = seenIdentifier
		d.Identifier, err = parseString(raw)
	case keySDKAppID:
		bit = seenSDKAppID
		d.SDKAppID, err = parseUint(raw, math.MaxUint64)
	case keyExpire:
		bit = seenExpire
		var v uint64
		v, err = parseUint(raw, math.MaxInt64)
		d.Expire = int64(v)
	case keyTime:
		bit = seenTime
		var v uint64
		v, err = parseUint(raw, math.MaxInt64)
		d.Time = int64(v)
	case keyUserBuf:
		bit = seenUserBuf
		d.UserBuf, err = parseBase64(raw, -1)
		d.HasUserBuf = true
	case keySig:
		bit = seenSig
		d.Sig, err = parseBase64(raw, sigLen)
	default:
		return nil // Unknown keys are ignored.
	}
	if err != nil {
		return malformed("%s: %v", key, err)
	}
	if *seen&bit != 0 {
		return malformed("%s: duplicate key", key)
	}
	*seen |= bit
	return nil
}

// checkRequired reports the first required key missing from seen.
func checkRequired(seen int) error {
	for _, req := range [...]struct {
		bit int
		key string
	}{
		{seenIdentifier, keyIdentifier},
		{seenSDKAppID, keySDKAppID},
		{seenExpire, keyExpire},
		{seenTime, keyTime},
		{seenSig, keySig},
	} {
		if seen&req.bit == 0 {
			return malformed("%s: missing", req.key)
		}
	}
	return nil
}

// scanner walks a document that json.Valid has accepted. Its methods still check every
// index, so that a bug can only cause a parse error, never a panic.
type scanner struct {
	js []byte
	i  int
}

func (s *scanner) skipSpace() {
	for s.i < len(s.js) {
		switch s.js[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume advances past c if it is the next byte.
func (s *scanner) consume(c byte) bool {
	if s.i < len(s.js) && s.js[s.i] == c {
		s.i++
		return true
	}
	return false
}

// value advances past one JSON value and returns its bytes.
func (s *scanner) value() ([]byte, bool) {
	start := s.i
	if s.i >= len(s.js) {
		return nil, false
	}
	switch s.js[s.i] {
	case '"':
		if !s.skipString() {
			return nil, false
		}
	case '{', '[':
		depth := 0
		for {
			if s.i >= len(s.js) {
				return nil, false
			}
			c := s.js[s.i]
			if c == '"' {
				if !s.skipString() {
					return nil, false
				}
				continue
			}
			s.i++
			switch c {
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return s.js[start:s.i], true
				}
			}
		}
	default: // A number, true, false or null.
		for s.i < len(s.js) {
			switch s.js[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.js[start:s.i], s.i > start
			}
			s.i++
		}
	}
	return s.js[start:s.i], s.i > start
}

// skipString advances past the string starting at s.i.
func (s *scanner) skipString() bool {
	for s.i++; s.i < len(s.js); s.i++ {
		switch s.js[s.i] {
		case '\\':
			s.i++ // The escaped byte; \uXXXX digits are ordinary bytes.
		case '"':
			s.i++
			return true
		}
	}
	return false
}

var (
	errNotString  = errors.New("not a string")
	errNotInteger = errors.New("not a non-negative integer")
	errRange      = errors.New("out of range")
	errBase64     = errors.New("not canonical standard Base64")
	errSigLen     = errors.New("wrong length")
)

// parseString decodes a JSON string value. The caller guarantees that raw is one syntactically
// valid JSON value without surrounding whitespace.
func parseString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", errNotString
	}
	if len(raw) < 2 || raw[len(raw)-1] != '"' {
		return "", errNotString
	}
	body := raw[1 : len(raw)-1]
	// Without escapes a valid string's bytes are its value; encoding/json would only
	// change invalid UTF-8, which therefore takes the slow path too.
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}

// parseUint decodes a JSON number that must be a non-negative integer without fraction or
// exponent, not above limit.
func parseUint(raw json.RawMessage, limit uint64) (uint64, error) {
	if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' {
		return 0, errNotInteger
	}
	v, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, errRange
		}
		return 0, errNotInteger
	}
	if v > limit {
		return 0, errRange
	}
	return v, nil
}

// parseBase64 decodes a JSON string holding canonical, padded standard Base64 of wantLen
// bytes, or of any length when wantLen is negative. The result is never nil.
func parseBase64(raw json.RawMessage, wantLen int) ([]byte, error) {
	s, err := parseString(raw)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	// Canonical means re-encoding gives back s: this refuses non-zero padding bits and the
	// CR and LF characters that the decoder skips.
	if err != nil || base64.StdEncoding.EncodeToString(b) != s {
		return nil, errBase64
	}
	if wantLen >= 0 && len(b) != wantLen {
		return nil, fmt.Errorf("%w: %d bytes, want %d", errSigLen, len(b), wantLen)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}
