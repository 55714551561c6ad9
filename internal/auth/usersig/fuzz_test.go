package usersig

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// fuzzSeeds returns UserSig strings for the fuzz corpora: the worked-example vectors, this package's
// own output and a few near misses.
func fuzzSeeds(tb testing.TB) []string {
	v := loadVectors(tb)
	var g goldenSign
	loadJSON(tb, "sign_golden.json", &g)
	return []string{
		v.UserSigLevel6, v.UserSigStored, g.Plain, g.UserBuf,
		v.UserSigLevel6[:len(v.UserSigLevel6)-1],
		v.UserSigStored[:40],
		wrap(tb, []byte(`{"TLS.identifier":"u","TLS.sdkappid":1,"TLS.expire":0,"TLS.time":0,"TLS.userbuf":"","TLS.sig":"`+v.TLSSig+`","x":[{}]}`), 0),
		wrap(tb, []byte(`{"TLS.identifier":1}`), 9),
		"", "_", "eJw_", "eJwDAAAAAAE_",
	}
}

// FuzzDecode feeds arbitrary strings to Decode and Verify. They must never panic, must fail
// only with ErrEmpty or ErrMalformed (Decode), and anything Decode accepts must survive a
// re-encoding unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	key := loadVectors(f).Key
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Decode(s)
		if err != nil {
			if d != nil {
				t.Fatal("document returned with an error")
			}
			class := ErrMalformed
			if s == "" {
				class = ErrEmpty
			}
			if !errors.Is(err, class) {
				t.Fatalf("unexpected error class: %v", err)
			}
			if _, verr := Verify(s, 1, key, "u", time.Unix(0, 0)); !errors.Is(verr, class) {
				t.Fatalf("Verify = %v, Decode = %v", verr, err)
			}
			return
		}
		checkInvariants(t, d)
		re, err := d.encode()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		d2, err := Decode(re)
		if err != nil {
			t.Fatalf("re-encoded ticket refused: %v", err)
		}
		if !docEqual(d, d2) {
			t.Fatalf("round trip changed the document:\n%+v\n%+v", d, d2)
		}
		// Verify with the decoded claims must get past the parse step, and a success
		// means the ticket really was signed with key.
		_, err = Verify(s, d.SDKAppID, key, d.Identifier, time.Unix(d.Time, 0))
		if err == nil {
			if d.HasUserBuf || !docEqual(d, signedCopy(d, key)) {
				t.Fatal("Verify accepted a ticket that was not signed with the key")
			}
		} else if errors.Is(err, ErrMalformed) || errors.Is(err, ErrAppIDMismatch) || errors.Is(err, ErrIdentifierMismatch) || errors.Is(err, ErrExpired) {
			t.Fatalf("Verify with the ticket's own claims: %v", err)
		}
	})
}

// FuzzParseDocument feeds arbitrary bytes to the JSON stage, which the outer encoding makes
// hard to reach from FuzzDecode.
func FuzzParseDocument(f *testing.F) {
	v := loadVectors(f)
	f.Add([]byte(v.JSON))
	f.Add([]byte(v.JSON + "\n"))
	f.Add([]byte(`{"TLS.ver": "2.0", "TLS.identifier": "x\u00e9", "TLS.sdkappid": 0, "TLS.expire": 9223372036854775807, "TLS.time": 1, "TLS.userbuf": "BQ==", "TLS.sig": "` + v.TLSSig + `", "z": [1, 2.5e3, null, true, {"a": "b"}]}`))
	f.Add([]byte(`{"TLS.identifier":"u","TLS.identifier":"v"}`))
	f.Add([]byte(`{"TLS.sdkappid":-1e9}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, js []byte) {
		compareWithOracle(t, js)
		d, err := parseDocument(js)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if !json.Valid(js) {
			t.Fatalf("accepted invalid JSON %q", js)
		}
		checkInvariants(t, d)
		out, err := d.marshal()
		if err != nil {
			t.Fatal(err)
		}
		d2, err := parseDocument(out)
		if err != nil {
			t.Fatalf("re-marshalled document refused: %v\n%s", err, out)
		}
		if !docEqual(d, d2) {
			t.Fatalf("round trip changed the document:\n%+v\n%+v", d, d2)
		}
		// The whole pipeline accepts what the parser accepts, within the size bound.
		if len(js) <= MaxDocumentLen {
			if s := wrap(t, js, 1); len(s) <= MaxLen {
				if d3, err := Decode(s); err != nil || !docEqual(d, d3) {
					t.Fatalf("Decode of the wrapped document: %v", err)
				}
			}
		}
	})
}

func checkInvariants(t *testing.T, d *Document) {
	t.Helper()
	if len(d.Sig) != sigLen {
		t.Fatalf("Sig has %d bytes", len(d.Sig))
	}
	if d.HasUserBuf != (d.UserBuf != nil) {
		t.Fatalf("HasUserBuf = %v, UserBuf = %#v", d.HasUserBuf, d.UserBuf)
	}
	if d.Time < 0 || d.Expire < 0 {
		t.Fatalf("negative time %d or expire %d", d.Time, d.Expire)
	}
}

// signedCopy returns d with Sig recomputed with key.
func signedCopy(d *Document, key string) *Document {
	c := d.clone()
	c.Sig = c.computeSig(key)
	return c
}
