package usersig

import (
	"bytes"
	"compress/zlib"
	"strings"
	"testing"
)

// TestFailureModes maps every way a ticket can be refused to its sentinel.
func TestFailureModes(t *testing.T) {
	v := loadVectors(t)
	good := v.UserSigLevel6
	goodRaw := unouter(t, good)
	sig := `"` + v.TLSSig + `"`
	// doc builds a JSON document from the vector with one field replaced or, for a nil
	// value, removed.
	doc := func(key string, value *string) []byte {
		fields := []struct{ k, v string }{
			{"TLS.ver", `"2.0"`},
			{"TLS.identifier", `"xiaojun"`},
			{"TLS.sdkappid", "1400000000"},
			{"TLS.expire", "15552000"},
			{"TLS.time", "1700000000"},
			{"TLS.sig", sig},
		}
		var b strings.Builder
		b.WriteByte('{')
		first := true
		for _, f := range fields {
			val := f.v
			if f.k == key {
				if value == nil {
					continue
				}
				val = *value
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.WriteString(`"` + f.k + `":` + val)
		}
		b.WriteByte('}')
		return []byte(b.String())
	}
	with := func(key, value string) string { return wrap(t, doc(key, &value), 6) }
	without := func(key string) string { return wrap(t, doc(key, nil), 6) }

	tampered := func(edit func(d *Document)) string {
		d, err := Decode(good)
		if err != nil {
			t.Fatal(err)
		}
		edit(d)
		s, err := d.encode()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	badChecksum := bytes.Clone(goodRaw)
	badChecksum[len(badChecksum)-1] ^= 1
	var bomb bytes.Buffer
	bomb.WriteString(`{"pad":"`)
	bomb.WriteString(strings.Repeat("a", MaxDocumentLen))
	bomb.WriteString(`",` + string(doc("", nil))[1:])
	dict := func() string {
		var buf bytes.Buffer
		zw, _ := zlib.NewWriterLevelDict(&buf, 6, []byte("TLS."))
		zw.Write([]byte(v.JSON))
		zw.Close()
		return outer(buf.Bytes())
	}()

	cases := []struct {
		name string
		sig  string
		want error
	}{
		{"empty", "", ErrEmpty},
		{"garbage base64", "!!!!", ErrMalformed},
		{"space", good[:10] + " " + good[11:], ErrMalformed},
		{"newline", good[:10] + "\n" + good[10:], ErrMalformed},
		{"percent-encoded", strings.ReplaceAll(good, "_", "%3D"), ErrMalformed},
		{"impossible length", "abcde", ErrMalformed},
		{"padding inside", "ab_cdefg", ErrMalformed},
		{"too much padding", good + "__", ErrMalformed},
		{"too long", strings.Repeat("A", MaxLen+4), ErrMalformed},
		{"base64 not zlib", outer([]byte("hello, world")), ErrMalformed},
		{"raw deflate", outer(goodRaw[2 : len(goodRaw)-4]), ErrMalformed},
		{"zlib preset dictionary", dict, ErrMalformed},
		{"zlib bad checksum", outer(badChecksum), ErrMalformed},
		{"zlib missing checksum", outer(goodRaw[:len(goodRaw)-4]), ErrMalformed},
		{"zlib trailing bytes", outer(append(bytes.Clone(goodRaw), 0)), ErrMalformed},
		{"truncated sig", good[:len(good)-12], ErrMalformed},
		{"truncated sig half", good[:len(good)/2], ErrMalformed},
		{"inflates too large", wrap(t, bomb.Bytes(), 9), ErrMalformed},
		{"zlib of non-JSON", wrap(t, []byte("TLS.identifier:xiaojun"), 6), ErrMalformed},
		{"zlib of nothing", wrap(t, nil, 6), ErrMalformed},
		{"JSON array", wrap(t, []byte(`[{"TLS.sig":1}]`), 6), ErrMalformed},
		{"JSON string", wrap(t, []byte(`"x"`), 6), ErrMalformed},
		{"JSON null", wrap(t, []byte(`null`), 6), ErrMalformed},
		{"JSON truncated", wrap(t, []byte(v.JSON[:len(v.JSON)-1]), 6), ErrMalformed},
		{"JSON trailing data", wrap(t, []byte(v.JSON+"x"), 6), ErrMalformed},
		{"JSON two objects", wrap(t, []byte(v.JSON+v.JSON), 6), ErrMalformed},
		{"JSON duplicate key", wrap(t, []byte(strings.Replace(v.JSON, "{", `{"TLS.sdkappid":1400000000,`, 1)), 6), ErrMalformed},
		{"missing identifier", without("TLS.identifier"), ErrMalformed},
		{"missing sdkappid", without("TLS.sdkappid"), ErrMalformed},
		{"missing expire", without("TLS.expire"), ErrMalformed},
		{"missing time", without("TLS.time"), ErrMalformed},
		{"missing sig", without("TLS.sig"), ErrMalformed},
		{"identifier number", with("TLS.identifier", "7"), ErrMalformed},
		{"identifier null", with("TLS.identifier", "null"), ErrMalformed},
		{"sdkappid string", with("TLS.sdkappid", `"1400000000"`), ErrMalformed},
		{"sdkappid fraction", with("TLS.sdkappid", "1400000000.0"), ErrMalformed},
		{"sdkappid exponent", with("TLS.sdkappid", "1.4e9"), ErrMalformed},
		{"sdkappid negative", with("TLS.sdkappid", "-1400000000"), ErrMalformed},
		{"sdkappid negative zero", with("TLS.sdkappid", "-0"), ErrMalformed},
		{"sdkappid overflow", with("TLS.sdkappid", "18446744073709551616"), ErrMalformed},
		{"sdkappid bool", with("TLS.sdkappid", "true"), ErrMalformed},
		{"expire negative", with("TLS.expire", "-1"), ErrMalformed},
		{"expire overflow", with("TLS.expire", "9223372036854775808"), ErrMalformed},
		{"expire fraction", with("TLS.expire", "15552000.5"), ErrMalformed},
		{"time negative", with("TLS.time", "-1700000000"), ErrMalformed},
		{"time string", with("TLS.time", `"1700000000"`), ErrMalformed},
		{"time null", with("TLS.time", "null"), ErrMalformed},
		{"ver number", with("TLS.ver", "2.0"), ErrMalformed},
		{"ver null", with("TLS.ver", "null"), ErrMalformed},
		{"sig number", with("TLS.sig", "1"), ErrMalformed},
		{"sig not base64", with("TLS.sig", `"not base64!"`), ErrMalformed},
		{"sig URL alphabet", with("TLS.sig", `"LvA7d_Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip-B4="`), ErrMalformed},
		{"sig unpadded", with("TLS.sig", `"LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4"`), ErrMalformed},
		{"sig non-canonical", with("TLS.sig", `"LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B5="`), ErrMalformed},
		{"sig too short", with("TLS.sig", `"LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip"`), ErrMalformed},
		{"sig too long", with("TLS.sig", `"LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4A"`), ErrMalformed},
		{"userbuf number", with("TLS.identifier", `"xiaojun","TLS.userbuf":5`), ErrMalformed},
		{"userbuf not base64", with("TLS.identifier", `"xiaojun","TLS.userbuf":"B Q=="`), ErrMalformed},
		{"userbuf null", with("TLS.identifier", `"xiaojun","TLS.userbuf":null`), ErrMalformed},
		{"sdkappid mismatch", with("TLS.sdkappid", "1400000001"), ErrAppIDMismatch},
		{"identifier mismatch", with("TLS.identifier", `"Xiaojun"`), ErrIdentifierMismatch},
		{"identifier with suffix", with("TLS.identifier", `"xiaojun "`), ErrIdentifierMismatch},
		{"expired", with("TLS.expire", "0"), ErrExpired},
		{"userbuf on plain verify", with("TLS.identifier", `"xiaojun","TLS.userbuf":"BQ=="`), ErrUserBufMismatch},
		{"empty userbuf on plain verify", with("TLS.identifier", `"xiaojun","TLS.userbuf":""`), ErrUserBufMismatch},
		{"tampered sig byte", tampered(func(d *Document) { d.Sig[7] ^= 0x10 }), ErrSignatureMismatch},
		{"tampered last sig byte", tampered(func(d *Document) { d.Sig[31]++ }), ErrSignatureMismatch},
		{"tampered expire", tampered(func(d *Document) { d.Expire++ }), ErrSignatureMismatch},
		{"tampered time", tampered(func(d *Document) { d.Time-- }), ErrSignatureMismatch},
		{"ver changed", with("TLS.ver", `"1.0"`), nil},
		{"ver missing", without("TLS.ver"), nil},
		{"control", good, nil},
	}
	now := v.now().Add(1)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Verify(c.sig, v.SDKAppID, v.Key, v.Identifier, now)
			if c.name == "expired" {
				_, err = Verify(c.sig, v.SDKAppID, v.Key, v.Identifier, now.Add(2e9))
			}
			assertErr(t, err, c.want)
			if c.want == ErrMalformed || c.want == ErrEmpty {
				d, err := Decode(c.sig)
				if d != nil {
					t.Error("Decode returned a document with an error")
				}
				assertErr(t, err, c.want)
			}
		})
	}

	t.Run("empty key", func(t *testing.T) {
		s, err := Sign(v.SDKAppID, v.Key, v.Identifier, v.Expire, v.now())
		if err != nil {
			t.Fatal(err)
		}
		d, _ := Decode(s)
		d.Sig = (&Document{Identifier: d.Identifier, SDKAppID: d.SDKAppID, Time: d.Time, Expire: d.Expire}).computeSig("")
		forged, _ := d.encode()
		_, err = Verify(forged, v.SDKAppID, "", v.Identifier, v.now())
		assertErr(t, err, ErrSignatureMismatch)
	})
}
