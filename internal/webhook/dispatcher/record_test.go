package dispatcher

import (
	"encoding/json"
	"testing"
)

// isJSONObject must accept exactly the replies that decoding into a map accepts (the
// check it replaced): a JSON object, nothing else.
func TestIsJSONObjectMatchesMapDecoding(t *testing.T) {
	for _, reply := range []string{
		`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`, ` {}`, "\n\t{ }\r\n", `{"a":[1,{"b":null}]}`,
		``, ` `, `null`, `[]`, `"{}"`, `1`, `{`, `{"a":1} x`, `{"a":1}{}`, `{"a":}`, `OK`, `<html>{}</html>`,
	} {
		var m map[string]json.RawMessage
		want := json.Unmarshal([]byte(reply), &m) == nil && m != nil
		if got := isJSONObject([]byte(reply)); got != want {
			t.Errorf("isJSONObject(%q) = %v, map decoding says %v", reply, got, want)
		}
	}
}
