package usersig

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

// parseDocumentOracle is a slower parseDocument built on encoding/json's token API. The
// fuzz targets check that both accept the same documents and decode them alike.
func parseDocumentOracle(js []byte) (*Document, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed("JSON: %v", err)
	}
	if tok != json.Delim('{') {
		return nil, malformed("JSON: document is not an object")
	}
	d := &Document{}
	var seen int
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed("JSON: %v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, malformed("JSON: object key is not a string")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, malformed("JSON: %v", err)
		}
		if err := d.setField(key, raw, &seen); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed("JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("JSON: data after the document")
	}
	if err := checkRequired(seen); err != nil {
		return nil, err
	}
	return d, nil
}

// FuzzParseString checks parseString's fast path against encoding/json.
func FuzzParseString(f *testing.F) {
	for _, s := range []string{`""`, `"abc"`, `"a\"b"`, `"\u00e9\ud800"`, "\"\xff\"", `"\/"`, `"é"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := parseString(raw)
		if len(raw) == 0 || raw[0] != '"' {
			if err == nil {
				t.Fatalf("accepted non-string %q", raw)
			}
			return
		}
		// parseString's contract: raw is one valid JSON value, as the scanner produces.
		if !json.Valid(raw) || raw[len(raw)-1] != '"' {
			return
		}
		var want string
		wantErr := json.Unmarshal(raw, &want)
		if (err == nil) != (wantErr == nil) || got != want {
			t.Fatalf("parseString(%q) = %q, %v; encoding/json: %q, %v", raw, got, err, want, wantErr)
		}
	})
}

func TestParserMatchesOracle(t *testing.T) {
	v := loadVectors(t)
	for _, js := range []string{
		v.JSON, v.JSON + " \n\t", " " + v.JSON, `{}`, `{ }`, `[]`, `{"a":{"b":[1,{"c":"}"}]},` + v.JSON[1:],
		`{"TLS.identifier":"a\"}b","TLS.sdkappid":1,"TLS.expire":2,"TLS.time":3,"TLS.sig":"` + v.TLSSig + `"}`,
		`{"TLS\u002eidentifier":"u","TLS.sdkappid":1,"TLS.expire":2,"TLS.time":3,"TLS.sig":"` + v.TLSSig + `"}`,
		`{"TLS.identifier":"u","TLS.sdkappid":1 ,"TLS.expire":2e0,"TLS.time":3,"TLS.sig":"` + v.TLSSig + `"}`,
		`{"TLS.identifier":"u","TLS.sdkappid":1,"TLS.expire":2,"TLS.time":3,"TLS.sig":"` + v.TLSSig + `","TLS.sig":"` + v.TLSSig + `"}`,
		`{"x":[],"y":{},"z":"","TLS.identifier":"","TLS.sdkappid":0,"TLS.expire":0,"TLS.time":0,"TLS.sig":"` + v.TLSSig + `"}`,
		`{"TLS.identifier":"u"`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":1}}`, `{"a":[1}`,
	} {
		compareWithOracle(t, []byte(js))
	}
}

func compareWithOracle(t *testing.T, js []byte) {
	t.Helper()
	d, err := parseDocument(js)
	od, oerr := parseDocumentOracle(js)
	if (err == nil) != (oerr == nil) {
		t.Fatalf("%q: parseDocument error %v, oracle error %v", js, err, oerr)
	}
	if err == nil && !docEqual(d, od) {
		t.Fatalf("%q: parseDocument %+v, oracle %+v", js, d, od)
	}
}
