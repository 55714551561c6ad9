package rest

import (
	"net/url"
	"strings"
)

// restQuery holds the query parameters that the REST API reads, each as
// url.Values.Get(name) of r.URL.Query() would return it: the first value of the name, ""
// when it is absent.
type restQuery struct {
	sdkappid, identifier, usersig, contenttype string
}

// maxFastQueryParams is the number of query parameters up to which parseRESTQuery scans
// the query itself; a longer one is parsed by url.ParseQuery. Tencent's calls have five.
const maxFastQueryParams = 16

// fastQueryOK is false when a GODEBUG urlmaxqueryparams setting makes url.ParseQuery refuse
// a query of maxFastQueryParams parameters: every query is then parsed by url.ParseQuery,
// so that its limit applies as before.
var fastQueryOK = func() bool {
	_, err := url.ParseQuery(strings.Repeat("a=1&", maxFastQueryParams-1) + "a=1")
	return err == nil
}()

// parseRESTQuery returns the REST parameters of the raw query. It gives exactly what
// url.ParseQuery(raw) followed by Get of each name gives (FuzzRESTQuery compares them),
// without building the url.Values map: pairs are split at '&', a pair holding ';' or an
// escape that does not decode is skipped, key and value are query-unescaped, and the first
// pair of a name wins.
func parseRESTQuery(raw string) restQuery {
	var q restQuery
	if !fastQueryOK || strings.Count(raw, "&") >= maxFastQueryParams {
		v, _ := url.ParseQuery(raw)
		q.sdkappid, q.identifier, q.usersig, q.contenttype = v.Get("sdkappid"), v.Get("identifier"), v.Get("usersig"), v.Get("contenttype")
		return q
	}
	var seen [4]bool
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		key, ok := queryUnescape(key)
		if !ok {
			continue
		}
		var dst *string
		var i int
		switch key {
		case "sdkappid":
			dst, i = &q.sdkappid, 0
		case "identifier":
			dst, i = &q.identifier, 1
		case "usersig":
			dst, i = &q.usersig, 2
		case "contenttype":
			dst, i = &q.contenttype, 3
		}
		if dst == nil || seen[i] {
			continue
		}
		// url.ParseQuery skips a pair whose value does not decode: such a pair is not a
		// name's first value.
		if value, ok = queryUnescape(value); !ok {
			continue
		}
		*dst, seen[i] = value, true
	}
	return q
}

// queryUnescape is url.QueryUnescape without its allocation for the usual string that has
// nothing to unescape.
func queryUnescape(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}
