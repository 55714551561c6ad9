package rest

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzRESTQuery checks parseRESTQuery against url.ParseQuery and url.Values.Get, which it
// replaces on every REST call, on arbitrary raw queries.
func FuzzRESTQuery(f *testing.F) {
	for _, s := range []string{
		"sdkappid=1400000000&identifier=admin&usersig=eJw*-_abc&random=99&contenttype=json",
		"sdkappid=1&sdkappid=2", "sdkappid=&sdkappid=2", "sdkappid=%zz&sdkappid=3", "sdk%61ppid=4",
		"identifier=a+b%20c", "identifier=a;b&identifier=c", ";&usersig=x", "usersig=a=b=c", "contenttype",
		"&&&identifier=x&&", "%=1&identifier=%", "identifier=%e4%b8%ad", "contenttype=JSON&contenttype=xml",
		strings.Repeat("a=1&", 20) + "sdkappid=7", strings.Repeat("&", 15) + "identifier=z", strings.Repeat("&", 16) + "identifier=z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		want := restQuery{v.Get("sdkappid"), v.Get("identifier"), v.Get("usersig"), v.Get("contenttype")}
		if got := parseRESTQuery(raw); got != want {
			t.Fatalf("parseRESTQuery(%q) = %+v, url.ParseQuery gives %+v", raw, got, want)
		}
	})
}
