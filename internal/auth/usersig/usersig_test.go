package usersig

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/golden"
)

// vectors mirrors testdata/vectors.json: a worked example computed from the published
// algorithm with the sample inputs of Tencent's tls-sig-api-v2 READMEs and a fixed time
// (Tencent publishes no fixed vectors; its library tests use the current time).
type vectors struct {
	SDKAppID       uint64 `json:"sdkappid"`
	Key            string `json:"key"`
	Identifier     string `json:"identifier"`
	Time           int64  `json:"time"`
	Expire         int64  `json:"expire"`
	Content        string `json:"content"`
	HMACHex        string `json:"hmac_hex"`
	TLSSig         string `json:"tls_sig"`
	JSON           string `json:"json"`
	UserSigLevel6  string `json:"usersig_level6"`
	UserSigStored  string `json:"usersig_stored"`
	UserBufHex     string `json:"userbuf_hex"`
	UserBufContent string `json:"userbuf_content"`
	UserBufTLSSig  string `json:"userbuf_tls_sig"`
}

func (v vectors) userBuf(tb testing.TB) []byte {
	b, err := hex.DecodeString(v.UserBufHex)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func (v vectors) now() time.Time { return time.Unix(v.Time, 0) }

// goldenSign mirrors testdata/sign_golden.json: this package's own Sign output for the
// vector inputs, pinned so that any change of the encoding shows up in review.
type goldenSign struct {
	Comment string `json:"comment"`
	Plain   string `json:"plain"`
	UserBuf string `json:"userbuf"`
}

func loadJSON(tb testing.TB, name string, v any) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
}

func loadVectors(tb testing.TB) vectors {
	var v vectors
	loadJSON(tb, "vectors.json", &v)
	return v
}

// wrap zlib-compresses js at level and applies the outer encoding, producing a UserSig
// from an arbitrary document.
func wrap(tb testing.TB, js []byte, level int) string {
	tb.Helper()
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, level)
	if err != nil {
		tb.Fatal(err)
	}
	zw.Write(js)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return outer(buf.Bytes())
}

// outer applies only the Base64 encoding and the character substitution.
func outer(b []byte) string {
	return strings.NewReplacer("+", "*", "/", "-", "=", "_").Replace(base64.StdEncoding.EncodeToString(b))
}

// unouter undoes outer, for tests that manipulate the zlib bytes.
func unouter(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("*", "+", "-", "/", "_", "=").Replace(s))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// sentinels lists every sentinel, to check that an error wraps exactly the expected one.
var sentinels = []error{ErrEmpty, ErrMalformed, ErrAppIDMismatch, ErrIdentifierMismatch, ErrExpired, ErrSignatureMismatch, ErrUserBufMismatch}

func assertErr(tb testing.TB, err, want error) {
	tb.Helper()
	if want == nil {
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		tb.Fatalf("error = %v, want %v", err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			tb.Fatalf("error %v also wraps %v", err, s)
		}
	}
}

func TestContentAndHMAC(t *testing.T) {
	v := loadVectors(t)
	d := &Document{Identifier: v.Identifier, SDKAppID: v.SDKAppID, Time: v.Time, Expire: v.Expire}
	if got := string(d.appendContent(nil)); got != v.Content {
		t.Errorf("content = %q, want %q", got, v.Content)
	}
	if len(v.Content) != 87 {
		t.Errorf("vector content is %d bytes, want 87 (four lines, each ending in a newline)", len(v.Content))
	}
	sig := d.computeSig(v.Key)
	if got := hex.EncodeToString(sig); got != v.HMACHex {
		t.Errorf("HMAC = %s, want %s", got, v.HMACHex)
	}
	if got := base64.StdEncoding.EncodeToString(sig); got != v.TLSSig {
		t.Errorf("TLS.sig = %s, want %s", got, v.TLSSig)
	}

	d.UserBuf, d.HasUserBuf = v.userBuf(t), true
	if got := string(d.appendContent(nil)); got != v.UserBufContent {
		t.Errorf("userbuf content = %q, want %q", got, v.UserBufContent)
	}
	if got := base64.StdEncoding.EncodeToString(d.computeSig(v.Key)); got != v.UserBufTLSSig {
		t.Errorf("userbuf TLS.sig = %s, want %s", got, v.UserBufTLSSig)
	}
}

func TestSpecVectors(t *testing.T) {
	v := loadVectors(t)
	wantSig, _ := hex.DecodeString(v.HMACHex)
	for name, sig := range map[string]string{"level6": v.UserSigLevel6, "stored": v.UserSigStored} {
		t.Run(name, func(t *testing.T) {
			d, err := Decode(sig)
			if err != nil {
				t.Fatal(err)
			}
			want := &Document{Version: "2.0", Identifier: v.Identifier, SDKAppID: v.SDKAppID, Expire: v.Expire, Time: v.Time, Sig: wantSig}
			if !docEqual(d, want) {
				t.Fatalf("Decode = %+v, want %+v", d, want)
			}
			last := v.Time + v.Expire
			for _, now := range []int64{v.Time, v.Time + 1, v.Time + v.Expire/2, last - 1, last} {
				if _, err := Verify(sig, v.SDKAppID, v.Key, v.Identifier, time.Unix(now, 0)); err != nil {
					t.Errorf("now=%d: %v", now, err)
				}
			}
			// The reference verifier has no lower bound: a ticket issued in the future is valid.
			if _, err := Verify(sig, v.SDKAppID, v.Key, v.Identifier, time.Unix(v.Time-3600, 0)); err != nil {
				t.Errorf("before issue time: %v", err)
			}
			_, err = Verify(sig, v.SDKAppID, v.Key, v.Identifier, time.Unix(last+1, 0))
			assertErr(t, err, ErrExpired)
			_, err = Verify(sig, v.SDKAppID, v.Key, v.Identifier+"2", v.now())
			assertErr(t, err, ErrIdentifierMismatch)
			_, err = Verify(sig, v.SDKAppID+1, v.Key, v.Identifier, v.now())
			assertErr(t, err, ErrAppIDMismatch)
			for _, key := range []string{strings.ToUpper(v.Key), v.Key[1:], v.Key + " ", "other"} {
				_, err = Verify(sig, v.SDKAppID, key, v.Identifier, v.now())
				assertErr(t, err, ErrSignatureMismatch)
			}
			// The hex-decoded key is not the HMAC key.
			hexKey, _ := hex.DecodeString(v.Key)
			_, err = Verify(sig, v.SDKAppID, string(hexKey), v.Identifier, v.now())
			assertErr(t, err, ErrSignatureMismatch)
			_, err = VerifyWithUserBuf(sig, v.SDKAppID, v.Key, v.Identifier, nil, v.now())
			assertErr(t, err, ErrUserBufMismatch)
			// Lenient outer encoding: unpadded, and with the unsubstituted alphabet.
			for _, variant := range []string{
				strings.TrimRight(sig, "_"),
				strings.NewReplacer("*", "+", "-", "/", "_", "=").Replace(sig),
			} {
				if _, err := Verify(variant, v.SDKAppID, v.Key, v.Identifier, v.now()); err != nil {
					t.Errorf("variant %q: %v", variant, err)
				}
			}
		})
	}
}

// TestOrder checks that the first failing check decides the error.
func TestOrder(t *testing.T) {
	v := loadVectors(t)
	sig := v.UserSigLevel6
	expired := time.Unix(v.Time+v.Expire+1, 0)
	_, err := Verify(sig, v.SDKAppID+1, "wrong", "wrong", expired)
	assertErr(t, err, ErrAppIDMismatch)
	_, err = Verify(sig, v.SDKAppID, "wrong", "wrong", expired)
	assertErr(t, err, ErrIdentifierMismatch)
	_, err = Verify(sig, v.SDKAppID, "wrong", v.Identifier, expired)
	assertErr(t, err, ErrExpired)
	_, err = VerifyWithUserBuf(sig, v.SDKAppID, "wrong", v.Identifier, []byte{5}, v.now())
	assertErr(t, err, ErrUserBufMismatch)
	ub, err := SignWithUserBuf(v.SDKAppID, v.Key, v.Identifier, v.Expire, []byte{5}, v.now())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Verify(ub, v.SDKAppID, "wrong", v.Identifier, v.now())
	assertErr(t, err, ErrUserBufMismatch)
}

func docEqual(a, b *Document) bool {
	return a.Version == b.Version && a.Identifier == b.Identifier && a.SDKAppID == b.SDKAppID &&
		a.Expire == b.Expire && a.Time == b.Time && a.HasUserBuf == b.HasUserBuf &&
		(a.UserBuf == nil) == (b.UserBuf == nil) && bytes.Equal(a.UserBuf, b.UserBuf) &&
		bytes.Equal(a.Sig, b.Sig)
}

func TestSignGolden(t *testing.T) {
	v := loadVectors(t)
	plain, err := Sign(v.SDKAppID, v.Key, v.Identifier, v.Expire, v.now())
	if err != nil {
		t.Fatal(err)
	}
	withBuf, err := SignWithUserBuf(v.SDKAppID, v.Key, v.Identifier, v.Expire, v.userBuf(t), v.now())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "sign_golden.json")
	if golden.Updating() { // -update or ROOMD_UPDATE_GOLDEN=1: rewrite sign_golden.json from the current Sign output
		b, _ := json.MarshalIndent(goldenSign{
			Comment: "Sign and SignWithUserBuf output for the inputs of vectors.json (userbuf 0x05), zlib default level of Go's compress/zlib. Regenerate with: go test -run TestSignGolden -update",
			Plain:   plain,
			UserBuf: withBuf,
		}, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var g goldenSign
	loadJSON(t, "sign_golden.json", &g)
	if plain != g.Plain {
		t.Errorf("Sign = %s\nwant %s\n(if compress/flate changed its output, review and rerun with -update)", plain, g.Plain)
	}
	if withBuf != g.UserBuf {
		t.Errorf("SignWithUserBuf = %s\nwant %s\n(if compress/flate changed its output, review and rerun with -update)", withBuf, g.UserBuf)
	}

	// The signed document is byte-for-byte the compact JSON of Tencent's Go library: keys in
	// the order ver, identifier, sdkappid, expire, time, userbuf, sig, then a newline.
	js, err := inflate(unouter(t, plain))
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != v.JSON {
		t.Errorf("JSON = %s\nwant %s", js, v.JSON)
	}
	if !bytes.HasPrefix(unouter(t, plain), []byte{0x78, 0x9c}) {
		t.Errorf("zlib header is not the default-level one")
	}
	js, err = inflate(unouter(t, withBuf))
	if err != nil {
		t.Fatal(err)
	}
	wantJS := strings.Replace(v.JSON, `,"TLS.sig":"`+v.TLSSig, `,"TLS.userbuf":"BQ==","TLS.sig":"`+v.UserBufTLSSig, 1)
	if string(js) != wantJS {
		t.Errorf("userbuf JSON = %s\nwant %s", js, wantJS)
	}

	for _, now := range []int64{v.Time, v.Time + v.Expire} {
		if _, err := Verify(g.Plain, v.SDKAppID, v.Key, v.Identifier, time.Unix(now, 0)); err != nil {
			t.Error(err)
		}
		if _, err := VerifyWithUserBuf(g.UserBuf, v.SDKAppID, v.Key, v.Identifier, v.userBuf(t), time.Unix(now, 0)); err != nil {
			t.Error(err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	now := time.Unix(1750000000, 0)
	cases := []struct {
		name       string
		sdkappid   uint64
		key        string
		identifier string
		expire     int64
	}{
		{"typical", 1400000000, "secret", "administrator", 86400},
		{"overseas", 20000001, strings.Repeat("k", 64), "user_1-A", 15552000},
		{"zero expire", 1, "k", "u", 0},
		{"max appid", ^uint64(0), "k", "u", 1},
		{"huge expire", 1400000000, "k", "u", 1<<63 - 1},
		{"empty identifier", 1400000000, "k", "", 60},
		{"unicode", 1400000000, "клю́ч", "用户<&>\"\\\n", 60},
		{"long identifier", 1400000000, "k", strings.Repeat("x", 1000), 60},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sig, err := Sign(c.sdkappid, c.key, c.identifier, c.expire, now)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Trim(sig, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-_") != "" {
				t.Errorf("sig %q is not URL-safe", sig)
			}
			d, err := Verify(sig, c.sdkappid, c.key, c.identifier, now)
			if err != nil {
				t.Fatal(err)
			}
			if d.Version != Version || d.Identifier != c.identifier || d.SDKAppID != c.sdkappid ||
				d.Expire != c.expire || d.Time != now.Unix() || d.HasUserBuf || d.UserBuf != nil || len(d.Sig) != 32 {
				t.Errorf("document = %+v", d)
			}
			_, err = Verify(sig, c.sdkappid, c.key+"x", c.identifier, now)
			assertErr(t, err, ErrSignatureMismatch)
			if c.expire < 1<<62 {
				_, err = Verify(sig, c.sdkappid, c.key, c.identifier, now.Add(time.Duration(c.expire+1)*time.Second))
				assertErr(t, err, ErrExpired)
			} else if _, err := Verify(sig, c.sdkappid, c.key, c.identifier, time.Unix(1<<62, 0)); err != nil {
				t.Errorf("a saturated deadline must not expire: %v", err)
			}
		})
	}
}

func TestUserBufRoundTrip(t *testing.T) {
	now := time.Unix(1750000000, 0)
	for _, ub := range [][]byte{{}, {0}, {5}, []byte("room\x00\xff\xfe"), bytes.Repeat([]byte{0xAB}, 300)} {
		sig, err := SignWithUserBuf(1400000000, "k", "u", 300, ub, now)
		if err != nil {
			t.Fatal(err)
		}
		d, err := VerifyWithUserBuf(sig, 1400000000, "k", "u", ub, now)
		if err != nil {
			t.Fatalf("userbuf %x: %v", ub, err)
		}
		if !d.HasUserBuf || d.UserBuf == nil || !bytes.Equal(d.UserBuf, ub) {
			t.Errorf("userbuf %x: document %+v", ub, d)
		}
		_, err = VerifyWithUserBuf(sig, 1400000000, "k", "u", append(bytes.Clone(ub), 1), now)
		assertErr(t, err, ErrUserBufMismatch)
		_, err = Verify(sig, 1400000000, "k", "u", now)
		assertErr(t, err, ErrUserBufMismatch)
		_, err = VerifyWithUserBuf(sig, 1400000000, "k2", "u", ub, now)
		assertErr(t, err, ErrSignatureMismatch)
	}
	// A nil userbuf is signed as an empty, present one.
	sig, err := SignWithUserBuf(1400000000, "k", "u", 300, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyWithUserBuf(sig, 1400000000, "k", "u", nil, now); err != nil {
		t.Error(err)
	}
	if _, err := VerifyWithUserBuf(sig, 1400000000, "k", "u", []byte{}, now); err != nil {
		t.Error(err)
	}
	_, err = Verify(sig, 1400000000, "k", "u", now)
	assertErr(t, err, ErrUserBufMismatch)
}

func TestSignRejects(t *testing.T) {
	now := time.Unix(1750000000, 0)
	if _, err := Sign(1, "", "u", 60, now); err == nil {
		t.Error("empty key accepted")
	}
	if _, err := Sign(1, "k", "u\xff", 60, now); err == nil {
		t.Error("invalid UTF-8 identifier accepted")
	}
	if _, err := Sign(1, "k", "u", -1, now); err == nil {
		t.Error("negative expire accepted")
	}
	if _, err := Sign(1, "k", "u", 60, time.Unix(-1, 0)); err == nil {
		t.Error("pre-epoch time accepted")
	}
}

// TestLenientDocuments checks documents that other producers may write.
func TestLenientDocuments(t *testing.T) {
	v := loadVectors(t)
	sig := `"` + v.TLSSig + `"`
	docs := map[string]string{
		"python separators": `{"TLS.ver": "2.0", "TLS.identifier": "xiaojun", "TLS.sdkappid": 1400000000, "TLS.expire": 15552000, "TLS.time": 1700000000, "TLS.sig": ` + sig + `}`,
		"reordered":         `{"TLS.sig":` + sig + `,"TLS.time":1700000000,"TLS.expire":15552000,"TLS.sdkappid":1400000000,"TLS.identifier":"xiaojun"}`,
		"unknown keys":      `{"TLS.ver":"3.0","x":[1,{"y":null}],"TLS.identifier":"xiaojun","TLS.sdkappid":1400000000,"TLS.expire":15552000,"TLS.time":1700000000,"TLS.sig":` + sig + `,"tls.sig":5}`,
		"trailing newline":  v.JSON + "\n",
		"escaped string":    `{"TLS.identifier":"xiao\u006aun","TLS.sdkappid":1400000000,"TLS.expire":15552000,"TLS.time":1700000000,"TLS.sig":` + sig + `}`,
	}
	for name, js := range docs {
		for _, level := range []int{zlib.NoCompression, zlib.BestSpeed, zlib.DefaultCompression, zlib.BestCompression, zlib.HuffmanOnly} {
			if _, err := Verify(wrap(t, []byte(js), level), v.SDKAppID, v.Key, v.Identifier, v.now()); err != nil {
				t.Errorf("%s, level %d: %v", name, level, err)
			}
		}
	}
}

func TestDecodeDocumentFields(t *testing.T) {
	d, err := Decode(wrap(t, []byte(`{"TLS.identifier":"u","TLS.sdkappid":18446744073709551615,"TLS.expire":9223372036854775807,"TLS.time":0,"TLS.userbuf":"","TLS.sig":"`+strings.Repeat("A", 43)+`="}`), 6))
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != "" || d.SDKAppID != ^uint64(0) || d.Expire != 1<<63-1 || d.Time != 0 || !d.HasUserBuf || d.UserBuf == nil || len(d.UserBuf) != 0 {
		t.Errorf("document = %+v", d)
	}
	if d.Expired(time.Unix(1<<62, 0)) {
		t.Error("deadline overflowed")
	}
}
