package room

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/errcode"
)

func TestMemberCursorRoundTrip(t *testing.T) {
	for _, c := range []memberCursor{
		{returned: 100, joinedMS: 1767225600250, userID: "alice"},
		{returned: 999, joinedMS: 0, userID: "用户.1"},
		{returned: 1, joinedMS: 1, userID: "a.b.c"},
	} {
		n, after, err := ParseMemberCursor(c.String())
		if err != nil || n != c.returned || after.UserID != c.userID || msCursor(after.JoinedAt) != c.joinedMS {
			t.Errorf("%q: got %d %+v %v", c.String(), n, after, err)
		}
	}
	for _, next := range []string{"", "0"} {
		if n, after, err := ParseMemberCursor(next); n != 0 || after != nil || err != nil {
			t.Errorf("%q: got %d %v %v", next, n, after, err)
		}
	}
	for _, bad := range []string{"1000.1.YQ", "0.1.YQ", "-1.1.YQ", "01.1.YQ", "1.-1.YQ", "1.01.YQ", "1.1.", "1.1.YQ=", "1.1.YQ.x", "1.1", "x", "1.1.!!", "1.1._w"} {
		if _, _, err := ParseMemberCursor(bad); !errors.Is(err, errcode.ErrInvalid) {
			t.Errorf("%q accepted (err %v)", bad, err)
		}
	}
}

func FuzzParseMemberCursor(f *testing.F) {
	for _, s := range []string{"", "0", "100.1767225600250.YWxpY2U", "999.0.5Ymo5oi3LjE", "1.1.YQ", "1000.1.YQ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		n, after, err := ParseMemberCursor(next)
		if err != nil {
			if !errors.Is(err, errcode.ErrInvalid) {
				t.Fatalf("error %v is not errcode.ErrInvalid", err)
			}
			return
		}
		if after == nil {
			if n != 0 {
				t.Fatalf("no position but %d returned", n)
			}
			return
		}
		if n <= 0 || n >= MaxMemberListTotal || after.UserID == "" {
			t.Fatalf("accepted %q as %d %+v", next, n, after)
		}
		// A cursor that parses is one this server could have made: it prints back the same.
		back := memberCursor{returned: n, joinedMS: msCursor(after.JoinedAt), userID: after.UserID}.String()
		if back != next {
			t.Fatalf("%q parses but prints as %q", next, back)
		}
	})
}

func TestParseMsgBody(t *testing.T) {
	ok := `[ {"MsgType":"TIMTextElem","MsgContent":{"Text":"a"}}, {"MsgType":"TIMCustomElem","MsgContent":{"Desc":"d","Data":"LV1"},"Extra":1} ]`
	got, err := ParseMsgBody([]byte(ok))
	if err != nil || string(got) != `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a"}},{"MsgType":"TIMCustomElem","MsgContent":{"Desc":"d","Data":"LV1"},"Extra":1}]` {
		t.Fatalf("got %s, %v", got, err)
	}
	for _, bad := range []string{`[]`, `"x"`, `{}`, `null`, `[1]`, `[{"MsgType":"","MsgContent":{}}]`, `[{"MsgType":1,"MsgContent":{}}]`,
		`[{"MsgType":"T"}]`, `[{"MsgType":"T","MsgContent":"x"}]`, `[{"MsgType":"T","MsgContent":null}]`, `[{"MsgType":"T","MsgContent":{}}`} {
		if _, err := ParseMsgBody([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func FuzzParseMsgBody(f *testing.F) {
	for _, s := range []string{`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a"}}]`, `[]`, `[{"MsgType":"T","MsgContent":{}},{"MsgType":"U","MsgContent":{"a":[1]}}]`, `{"a":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		body, err := ParseMsgBody(raw)
		if err != nil {
			return
		}
		var elems []struct {
			MsgType    string
			MsgContent map[string]json.RawMessage
		}
		if err := json.Unmarshal(body, &elems); err != nil || len(elems) == 0 {
			t.Fatalf("accepted %q as %q, which is not a list of elements: %v", raw, body, err)
		}
		var c bytes.Buffer
		if json.Compact(&c, body) != nil || !bytes.Equal(c.Bytes(), body) {
			t.Fatalf("result %q is not compact JSON", body)
		}
	})
}

func TestUntilCountsFromTheWholeSecond(t *testing.T) {
	got := until(time.Unix(100, 999_000_000), 10*time.Second)
	if !got.Equal(time.Unix(110, 0)) {
		t.Errorf("until = %v", got)
	}
}

func TestMsgID(t *testing.T) {
	a := msgID(1400000000, "jared", time.Unix(1727580296, 0), 4026038328)
	b := msgID(1400000000, "jared", time.Unix(1727580296, 0), 4026038328)
	c := msgID(1400000001, "jared", time.Unix(1727580296, 0), 4026038328)
	if a != b || a == c || !bytes.HasSuffix([]byte(a), []byte("-1727580296-4026038328")) {
		t.Errorf("msgID: %s %s %s", a, b, c)
	}
}
