package usersig

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/roomd/roomd/internal/errcode"
)

// The sentinel errors below describe why a UserSig was refused. Verification errors wrap
// exactly one of them, possibly with extra detail, so callers should test them with
// errors.Is rather than by comparing error values.
var (
	// ErrEmpty reports an empty UserSig. It answers Tencent code 70002.
	ErrEmpty = errcode.New(errcode.SigEmpty, "usersig: empty")

	// ErrMalformed reports a UserSig that cannot be parsed: it is too long, is not valid
	// Base64, is not a valid or complete zlib stream, does not hold a JSON object, or lacks
	// or mistypes a required field. It answers Tencent code 70003.
	ErrMalformed = errcode.New(errcode.SigMalformed, "usersig: malformed")

	// ErrAppIDMismatch reports that the SDKAppID inside the UserSig differs from the
	// expected one. It answers Tencent code 70014.
	ErrAppIDMismatch = errcode.New(errcode.SigSDKAppID, "usersig: sdk appid not match")

	// ErrIdentifierMismatch reports that the identifier (UserID) inside the UserSig differs
	// from the expected one. It answers Tencent code 70013.
	ErrIdentifierMismatch = errcode.New(errcode.SigIdentifier, "usersig: identifier not match")

	// ErrExpired reports that the UserSig's issue time plus its lifetime lies before the
	// current time. It answers Tencent code 70001.
	ErrExpired = errcode.New(errcode.SigExpired, "usersig: expired")

	// ErrSignatureMismatch reports that the HMAC inside the UserSig does not match the one
	// computed with the application's key, which happens with a wrong key or a tampered
	// ticket. It answers Tencent code 70009.
	ErrSignatureMismatch = errcode.New(errcode.SigMismatch, "usersig: sig not match")

	// ErrUserBufMismatch reports that the UserSig carries a userbuf when none was expected,
	// lacks one when one was expected, or carries a different one. It answers
	// Tencent code 70009, like a signature mismatch.
	ErrUserBufMismatch = errcode.New(errcode.SigMismatch, "usersig: userbuf not match")
)

// MaxLen is the length, in characters, of the longest UserSig that Decode accepts. Real
// tickets are a few hundred characters long; longer input is refused with ErrMalformed
// before any decoding work is done.
const MaxLen = 8 << 10

// MaxDocumentLen is the size, in bytes, of the largest inflated JSON document that Decode
// accepts. A zlib stream that inflates to more is refused with ErrMalformed, which bounds
// the work and memory a hostile ticket can cause.
const MaxDocumentLen = 64 << 10

// Version is the value of "TLS.ver" that Sign writes.
const Version = "2.0"

// Document is the decoded JSON document of a UserSig. Decode fills it from untrusted input
// without checking the signature; a Document returned by Verify has passed every check.
type Document struct {
	// Version is the "TLS.ver" string, or "" when the key is absent.
	Version string
	// Identifier is the "TLS.identifier" string, that is the UserID.
	Identifier string
	// SDKAppID is the "TLS.sdkappid" number.
	SDKAppID uint64
	// Expire is the "TLS.expire" lifetime in seconds, counted from Time.
	Expire int64
	// Time is the "TLS.time" issue time in Unix seconds.
	Time int64
	// UserBuf holds the bytes decoded from "TLS.userbuf". It is nil when the key is absent
	// and non-nil, possibly empty, when it is present.
	UserBuf []byte
	// HasUserBuf reports whether "TLS.userbuf" is present.
	HasUserBuf bool
	// Sig holds the 32 raw HMAC-SHA256 bytes decoded from "TLS.sig".
	Sig []byte
}

// Expired reports whether the ticket has expired at now, that is whether now is later than
// Time+Expire. A ticket is still valid during the second Time+Expire itself. The sum is
// computed without overflow.
func (d *Document) Expired(now time.Time) bool {
	return now.Unix() > d.deadline()
}

// deadline returns Time+Expire, saturated to the int64 range.
func (d *Document) deadline() int64 {
	switch {
	case d.Expire > 0 && d.Time > math.MaxInt64-d.Expire:
		return math.MaxInt64
	case d.Expire < 0 && d.Time < math.MinInt64-d.Expire:
		return math.MinInt64
	}
	return d.Time + d.Expire
}

// clone returns a deep copy of d, so that a cached Document never leaks to callers.
func (d *Document) clone() *Document {
	c := *d
	if d.UserBuf != nil {
		c.UserBuf = bytes.Clone(d.UserBuf)
	}
	if d.Sig != nil {
		c.Sig = bytes.Clone(d.Sig)
	}
	return &c
}

// Content string labels. The signed content is one "label:value\n" line each for
// identifier, sdkappid, time and expire, in that order (time before expire, unlike the JSON
// document), plus a userbuf line when there is one; this is what Tencent's open-source
// tls-sig-api-v2 libraries sign (https://github.com/tencentyun/tls-sig-api-v2-golang).
const (
	lineIdentifier = "TLS.identifier:"
	lineSDKAppID   = "TLS.sdkappid:"
	lineTime       = "TLS.time:"
	lineExpire     = "TLS.expire:"
	lineUserBuf    = "TLS.userbuf:"
)

// appendContent appends the content string that the HMAC covers to dst.
func (d *Document) appendContent(dst []byte) []byte {
	dst = append(dst, lineIdentifier...)
	dst = append(dst, d.Identifier...)
	dst = append(dst, '\n')
	dst = append(dst, lineSDKAppID...)
	dst = strconv.AppendUint(dst, d.SDKAppID, 10)
	dst = append(dst, '\n')
	dst = append(dst, lineTime...)
	dst = strconv.AppendInt(dst, d.Time, 10)
	dst = append(dst, '\n')
	dst = append(dst, lineExpire...)
	dst = strconv.AppendInt(dst, d.Expire, 10)
	dst = append(dst, '\n')
	if d.HasUserBuf {
		dst = append(dst, lineUserBuf...)
		dst = base64.StdEncoding.AppendEncode(dst, d.UserBuf)
		dst = append(dst, '\n')
	}
	return dst
}

// computeSig returns HMAC-SHA256 of d's content string keyed with the UTF-8 bytes of key.
func (d *Document) computeSig(key string) []byte {
	var buf [256]byte
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(d.appendContent(buf[:0]))
	return mac.Sum(nil)
}

// wireDocument is the JSON form that Sign writes, in the Go reference library's key order.
type wireDocument struct {
	Version    string  `json:"TLS.ver,omitempty"`
	Identifier string  `json:"TLS.identifier"`
	SDKAppID   uint64  `json:"TLS.sdkappid"`
	Expire     int64   `json:"TLS.expire"`
	Time       int64   `json:"TLS.time"`
	UserBuf    *string `json:"TLS.userbuf,omitempty"`
	Sig        string  `json:"TLS.sig"`
}

// marshal returns the compact JSON form of d, without a trailing newline.
func (d *Document) marshal() ([]byte, error) {
	w := wireDocument{
		Version:    d.Version,
		Identifier: d.Identifier,
		SDKAppID:   d.SDKAppID,
		Expire:     d.Expire,
		Time:       d.Time,
		Sig:        base64.StdEncoding.EncodeToString(d.Sig),
	}
	if d.HasUserBuf {
		ub := base64.StdEncoding.EncodeToString(d.UserBuf)
		w.UserBuf = &ub
	}
	return json.Marshal(&w)
}

// zlibWriters recycles compressors: a new one allocates several hundred kilobytes.
var zlibWriters = sync.Pool{
	New: func() any {
		w, _ := zlib.NewWriterLevel(nil, zlib.DefaultCompression)
		return w
	},
}

// encode compresses and Base64-encodes d into a UserSig string.
func (d *Document) encode() (string, error) {
	js, err := d.marshal()
	if err != nil {
		return "", fmt.Errorf("usersig: encode JSON: %w", err)
	}
	var buf bytes.Buffer
	zw := zlibWriters.Get().(*zlib.Writer)
	defer zlibWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(js); err != nil {
		return "", fmt.Errorf("usersig: compress: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("usersig: compress: %w", err)
	}
	out := base64.StdEncoding.AppendEncode(make([]byte, 0, base64.StdEncoding.EncodedLen(buf.Len())), buf.Bytes())
	for i, c := range out {
		switch c {
		case '+':
			out[i] = '*'
		case '/':
			out[i] = '-'
		case '=':
			out[i] = '_'
		}
	}
	return string(out), nil
}

// Sign returns a plain UserSig (without a userbuf) for identifier in application
// sdkappid, issued at now and valid for expireSeconds seconds, signed with key. The JSON is
// compact, in the Go reference library's key order and without a trailing newline, and it
// is compressed at zlib's default level. Sign fails when key is empty, identifier is not
// valid UTF-8, expireSeconds is negative or now is before the Unix epoch, since such
// tickets could not be verified.
func Sign(sdkappid uint64, key, identifier string, expireSeconds int64, now time.Time) (string, error) {
	return sign(sdkappid, key, identifier, expireSeconds, nil, false, now)
}

// SignWithUserBuf is like Sign but embeds userbuf, as a PrivateMapKey does. The userbuf is
// always present in the result: a nil userbuf is written as an empty one, which
// VerifyWithUserBuf accepts only with an empty want.
func SignWithUserBuf(sdkappid uint64, key, identifier string, expireSeconds int64, userbuf []byte, now time.Time) (string, error) {
	if userbuf == nil {
		userbuf = []byte{}
	}
	return sign(sdkappid, key, identifier, expireSeconds, userbuf, true, now)
}

func sign(sdkappid uint64, key, identifier string, expireSeconds int64, userbuf []byte, hasUserBuf bool, now time.Time) (string, error) {
	switch {
	case key == "":
		return "", errors.New("usersig: sign: empty key")
	case !utf8.ValidString(identifier):
		return "", errors.New("usersig: sign: identifier is not valid UTF-8")
	case expireSeconds < 0:
		return "", fmt.Errorf("usersig: sign: negative expire %d", expireSeconds)
	case now.Unix() < 0:
		return "", fmt.Errorf("usersig: sign: issue time %d before the Unix epoch", now.Unix())
	}
	d := &Document{
		Version:    Version,
		Identifier: identifier,
		SDKAppID:   sdkappid,
		Expire:     expireSeconds,
		Time:       now.Unix(),
		UserBuf:    bytes.Clone(userbuf),
		HasUserBuf: hasUserBuf,
	}
	d.Sig = d.computeSig(key)
	return d.encode()
}

// Verify checks that sig is a valid plain UserSig (one without a userbuf) for identifier in
// application sdkappid, signed with key, at time now. The checks run in the order described
// in the package documentation, and the returned error wraps the sentinel of the first
// failing check. On success Verify returns the decoded document; on failure it returns nil.
func Verify(sig string, sdkappid uint64, key, identifier string, now time.Time) (*Document, error) {
	return verify(sig, sdkappid, key, identifier, nil, false, now)
}

// VerifyWithUserBuf checks a UserSig that must carry a userbuf equal to want, such as a
// PrivateMapKey, in the same order as Verify. A missing or different userbuf fails with
// ErrUserBufMismatch. A nil want is treated as an empty userbuf, which must still be
// present.
func VerifyWithUserBuf(sig string, sdkappid uint64, key, identifier string, want []byte, now time.Time) (*Document, error) {
	if want == nil {
		want = []byte{}
	}
	return verify(sig, sdkappid, key, identifier, want, true, now)
}

func verify(sig string, sdkappid uint64, key, identifier string, want []byte, wantUserBuf bool, now time.Time) (*Document, error) {
	if sig == "" {
		return nil, ErrEmpty
	}
	d, err := Decode(sig)
	if err != nil {
		return nil, err
	}
	if err := d.check(sdkappid, key, identifier, want, wantUserBuf, now); err != nil {
		return nil, err
	}
	return d, nil
}

// check runs verification steps 3 to 7 on a decoded document.
func (d *Document) check(sdkappid uint64, key, identifier string, want []byte, wantUserBuf bool, now time.Time) error {
	if d.SDKAppID != sdkappid {
		return fmt.Errorf("%w: ticket has %d, want %d", ErrAppIDMismatch, d.SDKAppID, sdkappid)
	}
	if d.Identifier != identifier {
		return ErrIdentifierMismatch
	}
	if d.Expired(now) {
		return fmt.Errorf("%w: at %d, valid until %d", ErrExpired, now.Unix(), d.deadline())
	}
	switch {
	case wantUserBuf && !d.HasUserBuf:
		return fmt.Errorf("%w: userbuf expected but absent", ErrUserBufMismatch)
	case !wantUserBuf && d.HasUserBuf:
		return fmt.Errorf("%w: userbuf present on a plain ticket", ErrUserBufMismatch)
	case wantUserBuf && !bytes.Equal(d.UserBuf, want):
		return fmt.Errorf("%w: userbuf differs", ErrUserBufMismatch)
	}
	if key == "" {
		// An application without a key must never accept a ticket, not even one
		// signed with the empty key.
		return fmt.Errorf("%w: empty key", ErrSignatureMismatch)
	}
	if !hmac.Equal(d.computeSig(key), d.Sig) {
		return ErrSignatureMismatch
	}
	return nil
}
