package rest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/roomd/roomd/internal/errcode"
)

func TestFlexString(t *testing.T) {
	for _, c := range []struct {
		in   string
		want flexString
		ok   bool
	}{
		{`{"Data":"x"}`, flexString{"x", true}, true},
		{`{"Data":""}`, flexString{"", true}, true},
		{`{"Data":12.50}`, flexString{"12.50", true}, true},
		{`{"Data":-1e3}`, flexString{"-1e3", true}, true},
		{`{"Data":null}`, flexString{}, true},
		{`{}`, flexString{}, true},
		{`{"Data":true}`, flexString{}, false},
		{`{"Data":{"a":1}}`, flexString{}, false},
		{`{"Data":[1]}`, flexString{}, false},
	} {
		var v struct{ Data flexString }
		err := json.Unmarshal([]byte(c.in), &v)
		if (err == nil) != c.ok || (c.ok && v.Data != c.want) {
			t.Errorf("%s: got %+v, %v", c.in, v.Data, err)
		}
		var e *errcode.InvalidError
		if err != nil && !errors.As(err, &e) {
			t.Errorf("%s: error %v is not an *errcode.InvalidError", c.in, err)
		}
	}
}

func FuzzFlexString(f *testing.F) {
	for _, s := range []string{`"x"`, `12.5`, `null`, `true`, `{}`, `"\u00e9"`, `-0`, `1e999`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var v flexString
		if err := v.UnmarshalJSON(raw); err != nil {
			var e *errcode.InvalidError
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *errcode.InvalidError", err)
			}
			return
		}
		if !v.Set {
			if v.Value != "" {
				t.Fatalf("unset value %q", v.Value)
			}
			return
		}
		// A string comes back as itself, a number as its literal text.
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if s != v.Value {
				t.Fatalf("%q: got %q, want %q", raw, v.Value, s)
			}
			return
		}
		var n json.Number
		if json.Unmarshal(raw, &n) != nil || n.String() != v.Value {
			t.Fatalf("%q accepted as %q", raw, v.Value)
		}
	})
}
