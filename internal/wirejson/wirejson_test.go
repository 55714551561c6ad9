package wirejson

import (
	"encoding/json"
	"testing"
)

func TestMarshalKeepsHTMLCharactersAndMatchesEncodingJSON(t *testing.T) {
	v := map[string]any{"CoverURL": "https://x/a?b=1&c=<2>", "n": 1, "list": []int{}}
	got, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"CoverURL":"https://x/a?b=1&c=<2>","list":[],"n":1}`; string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	var back, orig map[string]any
	json.Unmarshal(got, &back)
	b, _ := json.Marshal(v)
	json.Unmarshal(b, &orig)
	if len(back) != len(orig) || back["CoverURL"] != orig["CoverURL"] {
		t.Errorf("decoded %v, want %v", back, orig)
	}
	if _, err := Marshal(func() {}); err == nil {
		t.Error("unencodable value accepted")
	}
}
